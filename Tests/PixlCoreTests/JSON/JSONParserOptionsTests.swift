import Testing

@testable import PixlCore

/// The parser with Python's options (``JSONParser/Options/python``), and batches whose items are checked.
struct JSONParserOptionsTests {
    static func python(_ text: String) throws(JSONParseError) -> JSONValue {
        try JSONParser.parse(Array(text.utf8), options: .python)
    }

    static func batch(_ bytes: [UInt8]) throws(JSONParseError) -> JSONParser.Batch {
        try JSONParser.parseBatch(bytes, options: .python, itemOptions: .message)
    }

    static func batch(_ text: String) throws(JSONParseError) -> JSONParser.Batch {
        try batch(Array(text.utf8))
    }

    // MARK: Python's reading

    @Test func byteOrderMarkIsSkippedAndNotCounted() throws {
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        #expect(try JSONParser.parse(bom + Array(" {}".utf8), options: .python) == .object([]))
        let error = try #require(JSONParserTests.error(bom + Array("[1 2]".utf8), options: .python))
        #expect(error.reason == .unexpectedCharacter(expecting: .commaOrArrayEnd))
        #expect(error.offset == 6)
        #expect(error.characterOffset == 3)
    }

    @Test func nonFiniteNumbersAreNumbers() throws {
        #expect(try Self.python("[NaN, Infinity, -Infinity]") == .array([.number("NaN"), .number("Infinity"), .number("-Infinity")]))
    }

    @Test func duplicateKeysKeepTheFirstPositionAndTheLastValue() throws {
        let value = try Self.python(#"{"a": 1, "b": 2, "a": {"c": 3, "c": 4}}"#)
        #expect(value == .object([.init(key: "a", value: .object([.init(key: "c", value: .integer(4))])), .init(key: "b", value: .integer(2))]))
    }

    @Test func loneSurrogatesAreReplaced() throws {
        #expect(
            try Self.python(#"["\ud800", "\udc00x", "\ud800\u0041", "\ud83d\ude00"]"#)
                == .array([.string("\u{FFFD}"), .string("\u{FFFD}x"), .string("\u{FFFD}A"), .string("😀")])
        )
    }

    @Test func limitsArePython() throws {
        _ = try Self.python(String(repeating: "[", count: 512) + String(repeating: "]", count: 512))
        #expect(JSONParserTests.error(Array(String(repeating: "[", count: 513).utf8), options: .python)?.reason == .nestingTooDeep(maximum: 512))
        #expect(try Self.python("\"" + String(repeating: "a", count: 70_000) + "\"") == .string(String(repeating: "a", count: 70_000)))
    }

    /// Python's `pos`: characters, at the opening quote of an unterminated string, at the backslash of a bad escape.
    @Test(arguments: [
        (#"{"é": "x"#, JSONParseError.Reason.unexpectedEnd(expecting: .stringEnd), 9, 6),
        (#"["é", "\u12G4"]"#, .invalidUnicodeEscape, 12, 7),
        (#"["é", "\u1"#, .unexpectedEnd(expecting: .hexDigits), 10, 7),
        (#"["é" "x"]"#, .unexpectedCharacter(expecting: .commaOrArrayEnd), 6, 5),
        ("[1,]", .trailingComma(inObject: false), 3, 3),
        (#"{"a":1,}"#, .trailingComma(inObject: true), 7, 7),
    ])
    func characterOffsetsAreWherePythonPutsThem(text: String, reason: JSONParseError.Reason, offset: Int, characterOffset: Int) throws {
        let error = try #require(JSONParserTests.error(Array(text.utf8), options: .python))
        #expect(error.reason == reason)
        #expect(error.offset == offset)
        #expect(error.characterOffset == characterOffset)
    }

    // MARK: Batches

    @Test func itemsAreTheElementsWithTheirBytes() throws {
        let text = #" [ {"a": 1} , 2,"x" ] "#
        let batch = try Self.batch(text)
        let bytes = Array(text.utf8)
        #expect(batch.items.map { String(decoding: bytes[$0.bytes], as: UTF8.self) } == [#"{"a": 1}"#, "2", #""x""#])
        #expect(batch.items.map(\.value) == [.object([.init(key: "a", value: .integer(1))]), .integer(2), .string("x")])
        #expect(batch.items.allSatisfy { $0.violation == nil })
        let single = try Self.batch(#" {"a": 1} "#)
        #expect(single.items.map(\.bytes) == [0..<10])
    }

    /// What the item options refuse and the document's accept is the item's violation, as if it were parsed alone.
    @Test func itemViolationsAreRecordedNotThrown() throws {
        let batch = try Self.batch(#"[{"a": 1}, {"mrn": "x", "mrn": "y"}, {"b": "\udc00", "c": Infinity}, [{"d": {"e": 1, "e": 2}}]]"#)
        #expect(
            batch.items.map(\.violation) == [
                nil,
                JSONParseError(reason: .duplicateKey(topLevel: true), offset: 13, characterOffset: 13, topLevelKey: "mrn"),
                JSONParseError(reason: .loneSurrogate, offset: 7, characterOffset: 7, topLevelKey: "b"),
                JSONParseError(reason: .duplicateKey(topLevel: false), offset: 16, characterOffset: 16, topLevelKey: nil),
            ]
        )
        // Read on with the document's options.
        #expect(batch.items[1].value == .object([.init(key: "mrn", value: .string("y"))]))
        #expect(batch.items[2].value["c"] == .number("Infinity"))
    }

    @Test func itemsReadNaNAsNullAndTheDocumentKeepsItsLimits() throws {
        #expect(try Self.batch("[NaN, {\"a\": NaN}]").items.map(\.value) == [.null, .object([.init(key: "a", value: .null)])])
        let deep = try Self.batch("[" + String(repeating: "[", count: 40) + String(repeating: "]", count: 41))
        #expect(deep.items.first?.violation?.reason == .nestingTooDeep(maximum: 32))
        #expect(deep.items.first?.violation?.offset == 32)
        #expect(throws: JSONParseError.self) { try Self.batch(String(repeating: "[", count: 600)) }
        #expect(throws: JSONParseError.self) { try Self.batch(#"[{"a": 1}, {"b": }]"#) }
    }

    /// A byte order mark belongs to a single-value document's one item, not to an array's elements.
    @Test func aByteOrderMarkIsTheSingleItemsViolation() throws {
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        let single = try Self.batch(bom + Array(#"{"a": 1}"#.utf8))
        #expect(single.items.first?.violation == JSONParseError(reason: .byteOrderMark, offset: 0, characterOffset: 0, topLevelKey: nil))
        #expect(single.items.first?.bytes == 0..<11)
        let array = try Self.batch(bom + Array(#"[{"a": 1}]"#.utf8))
        #expect(array.items.first?.violation == nil)
        #expect(array.items.first?.bytes == 4..<12)
    }
}
