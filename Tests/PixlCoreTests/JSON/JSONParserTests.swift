import Testing

@testable import PixlCore

/// The parser with the options of a message body (``JSONParser/Options/message``).
struct JSONParserTests {
    static func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        try JSONParser.parse(Array(text.utf8), options: .message)
    }

    static func error(_ bytes: [UInt8], options: JSONParser.Options = .message) -> JSONParseError? {
        do {
            _ = try JSONParser.parse(bytes, options: options)
            return nil
        } catch {
            return error
        }
    }

    static func reason(_ bytes: [UInt8]) -> JSONParseError.Reason? {
        error(bytes)?.reason
    }

    static func reason(_ text: String) -> JSONParseError.Reason? {
        reason(Array(text.utf8))
    }

    @Test func parsesRFC8259Values() throws {
        let value = try Self.parse(#" {"a": [true, false, null, -0, 1.5e-3, "x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"], "b": {}} "#)
        #expect(value == .object([
            .init(key: "a", value: .array([.bool(true), .bool(false), .null, .integer(0), .number("1.5e-3"), .string("x\"\\/\u{8}\u{C}\n\r\té😀")])),
            .init(key: "b", value: .object([])),
        ]))
    }

    @Test func keepsMemberOrder() throws {
        guard case .object(let members) = try Self.parse(#"{"z": 1, "a": 2, "m": 3}"#) else {
            Issue.record("not an object")
            return
        }
        #expect(members.map(\.key) == ["z", "a", "m"])
    }

    @Test func integersKeepInt64Precision() throws {
        #expect(try Self.parse("9223372036854775807") == .integer(.max))
        #expect(try Self.parse("-9223372036854775808") == .integer(.min))
        #expect(try Self.parse("9007199254740993") == .integer(9_007_199_254_740_993))
        #expect(try Self.parse("9223372036854775808") == .number("9223372036854775808"))
        #expect(try Self.parse("1.0") == .number("1.0"))
    }

    @Test func nanIsNull() throws {
        #expect(try Self.parse("NaN") == .null)
        #expect(try Self.parse(#"{"a": NaN}"#) == .object([.init(key: "a", value: .null)]))
        #expect(Self.reason("-NaN") == .invalidNumber(then: .value))
        #expect(Self.reason("nan") == .unexpectedCharacter(expecting: .value))
    }

    @Test func infinityIsRefused() {
        #expect(Self.reason("Infinity") == .infinity)
        #expect(Self.reason("[-Infinity]") == .infinity)
        #expect(Self.reason("Inf") == .unexpectedCharacter(expecting: .value))
    }

    @Test(arguments: ["01", "-", "1.", ".5", "1e", "1e+", "+1", "0x10", "--1", "[01]", "[1.]", #"{"a": 1e+}"#])
    func malformedNumbersAreRefused(text: String) {
        #expect(Self.reason(text) != nil)
    }

    /// A number cut short is refused where the digit is missing; Python reads its valid start, then wants what follows a value.
    @Test(arguments: [
        ("[01]", JSONParseError.Reason.invalidNumber(then: .commaOrArrayEnd), 2, 2), ("1.", .invalidNumber(then: nil), 2, 1),
        (#"{"a": 1.5e+}"#, .invalidNumber(then: .commaOrObjectEnd), 11, 9), ("[-x]", .invalidNumber(then: .value), 2, 1),
        ("[-Inf]", .unexpectedCharacter(expecting: .value), 2, 1),
    ])
    func malformedNumbersAreCutShort(text: String, reason: JSONParseError.Reason, offset: Int, characterOffset: Int) throws {
        let error = try #require(Self.error(Array(text.utf8)))
        #expect([error.offset, error.characterOffset] == [offset, characterOffset])
        #expect(error.reason == reason)
    }

    @Test func numberLiteralsAreBounded() {
        #expect(Self.reason(String(repeating: "1", count: 1025)) == .numberTooLong(maximum: 1024))
    }

    @Test func invalidUTF8IsRefused() {
        let cases: [[UInt8]] = [
            [0xFF], [0xC0, 0x80], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80],
            [0xC3], [0xE2, 0x82], [0x80],
        ]
        for bytes in cases {
            #expect(Self.reason([UInt8(ascii: "\"")] + bytes + [UInt8(ascii: "\"")]) == .invalidUTF8, "\(bytes)")
        }
        #expect(Self.reason([0xFF]) == .unexpectedCharacter(expecting: .value))
    }

    @Test func validUTF8IsKept() throws {
        #expect(try Self.parse("\"é北😀\"") == .string("é北😀"))
    }

    @Test func byteOrderMarkIsRefused() {
        #expect(Self.reason([0xEF, 0xBB, 0xBF] + Array("{}".utf8)) == .byteOrderMark)
    }

    @Test(arguments: [#""\ud800""#, #""\udc00""#, #""\ud800x""#, #""\ud800\u0041""#, #""\ud800\ud800""#])
    func loneSurrogatesAreRefused(text: String) {
        #expect(Self.reason(text) == .loneSurrogate)
    }

    @Test(arguments: [#""\x""#, #""\U0041""#])
    func badEscapesAreRefused(text: String) {
        #expect(Self.reason(text) == .invalidEscape)
    }

    @Test(arguments: [#""\u12G4""#, #""\ud800\u12G4""#])
    func badUnicodeEscapesAreRefused(text: String) {
        #expect(Self.reason(text) == .invalidUnicodeEscape)
        #expect(Self.reason(#""\u12""#) == .unexpectedEnd(expecting: .hexDigits))
    }

    @Test func controlCharactersMustBeEscaped() {
        #expect(Self.reason("\"a\nb\"") == .controlCharacterInString)
        #expect(Self.reason("\"a\u{0}b\"") == .controlCharacterInString)
    }

    @Test func duplicateKeysAreRefused() {
        #expect(Self.reason(#"{"a": 1, "a": 2}"#) == .duplicateKey(topLevel: true))
        #expect(Self.reason(#"{"a": {"b": 1, "b": 1}}"#) == .duplicateKey(topLevel: false))
    }

    @Test func errorsNameTheTopLevelKey() {
        do {
            _ = try Self.parse(#"{"mrn": "x", "study_date": {"a": [1, Infinity]}}"#)
            Issue.record("parsed")
        } catch {
            #expect(error.topLevelKey == "study_date")
            #expect(error.offset == 37)
        }
        do {
            _ = try Self.parse(#"{"mrn": "x"} y"#)
            Issue.record("parsed")
        } catch {
            #expect(error == JSONParseError(reason: .trailingData, offset: 13, characterOffset: 13, topLevelKey: nil))
        }
    }

    @Test func nestingIsBounded() throws {
        let limit = JSONParser.Options.message.maximumDepth
        _ = try Self.parse(String(repeating: "[", count: limit) + String(repeating: "]", count: limit))
        #expect(Self.reason(String(repeating: "[", count: limit + 1) + String(repeating: "]", count: limit + 1)) == .nestingTooDeep(maximum: limit))
        #expect(Self.reason(String(repeating: "{\"a\":", count: 100_000)) == .nestingTooDeep(maximum: limit))
    }

    @Test func stringsAreBounded() throws {
        let limit = JSONParser.Options.message.maximumStringBytes
        #expect(try Self.parse("\"" + String(repeating: "a", count: limit) + "\"") == .string(String(repeating: "a", count: limit)))
        #expect(Self.reason("\"" + String(repeating: "a", count: limit + 1) + "\"") == .stringTooLong(maximumBytes: limit))
        #expect(Self.reason("\"" + String(repeating: "\\u00e9", count: limit / 2 + 1) + "\"") == .stringTooLong(maximumBytes: limit))
    }

    @Test(arguments: ["", " ", "{", "[1,", #"{"a""#, #"{"a":"#, #"{"a":1"#, #""abc"#, "tru", "[1 2]", "{1: 2}", #"{"a" 1}"#, "[1,]", #"{"a":1,}"#])
    func incompleteOrMalformedDocumentsAreRefused(text: String) {
        #expect(Self.reason(text) != nil)
    }

    @Test func trailingDataIsRefused() {
        #expect(Self.reason("{} {}") == .trailingData)
        #expect(Self.reason("1 2") == .trailingData)
        #expect(Self.reason("{}\n") == nil)
    }
}
