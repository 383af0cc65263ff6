/// A small, strict JSON parser for message bodies: RFC 8259 plus the bare token `NaN`.
///
/// Foundation's `JSONSerialization` cannot be used: it refuses `NaN` (which PIXL's CLI sends for an
/// empty CSV cell) and silently keeps the last of duplicate keys. This parser reads `NaN` as
/// ``JSONValue/null`` and refuses, with the byte offset: invalid UTF-8, a byte order mark, unpaired
/// surrogate escapes, duplicate keys, data after the value, `Infinity`, nesting deeper than
/// ``maximumDepth`` and strings longer than ``maximumStringBytes``. Work is linear in the body size
/// and recursion is bounded by ``maximumDepth``, so no input can crash it or make it stall.
struct StrictJSONParser {
    // MARK: Member variables

    /// Deepest nesting of arrays and objects accepted. A message is 6 levels deep.
    static let maximumDepth = 32
    /// Longest string accepted, in UTF-8 bytes after unescaping.
    static let maximumStringBytes = 64 * 1024
    /// Longest number literal accepted.
    static let maximumNumberLength = 1024

    private let bytes: [UInt8]
    private var position = 0
    private var depth = 0
    /// The key of the top-level member being parsed, reported with errors.
    private var topLevelKey: String?

    // MARK: Initialization

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    // MARK: Methods

    /// Parses a whole body: exactly one JSON value, optionally surrounded by whitespace.
    static func parse(_ body: some Collection<UInt8>) throws(JSONParseError) -> JSONValue {
        var parser = StrictJSONParser(bytes: Array(body))
        return try parser.parseDocument()
    }

    private mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { throw error(.byteOrderMark) }
        skipWhitespace()
        let value = try parseValue()
        skipWhitespace()
        guard position == bytes.count else { throw error(.trailingData) }
        return value
    }

    private mutating func parseValue() throws(JSONParseError) -> JSONValue {
        guard let byte = peek() else { throw error(.unexpectedEnd) }
        switch byte {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "N"): try expectLiteral("NaN"); return .null
        case UInt8(ascii: "I"): try refuseInfinity(at: position)
        case UInt8(ascii: "-"):
            if position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: "I") { try refuseInfinity(at: position + 1) }
            return try parseNumber()
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw error(.unexpectedCharacter)
        }
    }

    private mutating func parseObject() throws(JSONParseError) -> JSONValue {
        try enterContainer()
        defer { depth -= 1 }
        var members: [JSONValue.Member] = []
        var keys: Set<String> = []
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            position += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else { throw error(peek() == nil ? .unexpectedEnd : .expected("a string key")) }
            let keyOffset = position
            let key = try parseString()
            if !keys.insert(key).inserted {
                if depth == 1 { topLevelKey = key }
                throw error(.duplicateKey(topLevel: depth == 1), at: keyOffset)
            }
            skipWhitespace()
            try expect(UInt8(ascii: ":"), "':'")
            skipWhitespace()
            if depth == 1 { topLevelKey = key }
            members.append(JSONValue.Member(key: key, value: try parseValue()))
            if depth == 1 { topLevelKey = nil }
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "}"): position += 1; return .object(members)
            case nil: throw error(.unexpectedEnd)
            default: throw error(.expected("',' or '}'"))
            }
        }
    }

    private mutating func parseArray() throws(JSONParseError) -> JSONValue {
        try enterContainer()
        defer { depth -= 1 }
        var elements: [JSONValue] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            position += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue())
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "]"): position += 1; return .array(elements)
            case nil: throw error(.unexpectedEnd)
            default: throw error(.expected("',' or ']'"))
            }
        }
    }

    /// Consumes the opening bracket and checks the nesting limit (before recursing, so a deep body fails fast).
    private mutating func enterContainer() throws(JSONParseError) {
        guard depth < Self.maximumDepth else { throw error(.nestingTooDeep(maximum: Self.maximumDepth)) }
        depth += 1
        position += 1
    }

    // MARK: Strings

    private mutating func parseString() throws(JSONParseError) -> String {
        let start = position
        position += 1
        var utf8: [UInt8] = []
        while true {
            // Copy a run of plain ASCII in one go.
            let runStart = position
            while position < bytes.count, bytes[position] >= 0x20, bytes[position] < 0x80,
                bytes[position] != UInt8(ascii: "\""), bytes[position] != UInt8(ascii: "\\")
            {
                position += 1
            }
            utf8.append(contentsOf: bytes[runStart..<position])
            guard let byte = peek() else { throw error(.unexpectedEnd) }
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                guard utf8.count <= Self.maximumStringBytes else { throw error(.stringTooLong(maximumBytes: Self.maximumStringBytes), at: start) }
                return String(decoding: utf8, as: UTF8.self)
            case UInt8(ascii: "\\"):
                try parseEscape(into: &utf8)
            case 0..<0x20:
                throw error(.controlCharacterInString)
            default:
                try copyMultiByteSequence(into: &utf8)
            }
            guard utf8.count <= Self.maximumStringBytes else { throw error(.stringTooLong(maximumBytes: Self.maximumStringBytes), at: start) }
        }
    }

    private mutating func parseEscape(into utf8: inout [UInt8]) throws(JSONParseError) {
        let escapeStart = position
        position += 1
        guard let byte = peek() else { throw error(.unexpectedEnd) }
        position += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(byte)
        case UInt8(ascii: "b"): utf8.append(0x08)
        case UInt8(ascii: "f"): utf8.append(0x0C)
        case UInt8(ascii: "n"): utf8.append(0x0A)
        case UInt8(ascii: "r"): utf8.append(0x0D)
        case UInt8(ascii: "t"): utf8.append(0x09)
        case UInt8(ascii: "u"):
            var value = try parseHexQuad()
            if (0xDC00...0xDFFF).contains(value) { throw error(.loneSurrogate, at: escapeStart) }
            if (0xD800...0xDBFF).contains(value) {
                guard bytes[position...].starts(with: [UInt8(ascii: "\\"), UInt8(ascii: "u")]) else {
                    throw error(.loneSurrogate, at: escapeStart)
                }
                position += 2
                let low = try parseHexQuad()
                guard (0xDC00...0xDFFF).contains(low) else { throw error(.loneSurrogate, at: escapeStart) }
                value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
            }
            // Surrogates are excluded above, so every remaining value is a scalar.
            guard let scalar = Unicode.Scalar(value) else { throw error(.loneSurrogate, at: escapeStart) }
            UTF8.encode(scalar) { utf8.append($0) }
        default:
            throw error(.invalidEscape, at: escapeStart)
        }
    }

    private mutating func parseHexQuad() throws(JSONParseError) -> UInt32 {
        guard position + 4 <= bytes.count else { throw error(.unexpectedEnd) }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error(.invalidEscape)
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }

    /// Validates and copies one multi-byte UTF-8 sequence (Unicode Table 3-7: no overlong forms,
    /// no encoded surrogates, nothing above U+10FFFF).
    private mutating func copyMultiByteSequence(into utf8: inout [UInt8]) throws(JSONParseError) {
        let lead = bytes[position]
        let length: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; secondRange = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; secondRange = 0x80...0x9F
        case 0xF0: length = 4; secondRange = 0x90...0xBF
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; secondRange = 0x80...0x8F
        default: throw error(.invalidUTF8)
        }
        guard position + length <= bytes.count, secondRange.contains(bytes[position + 1]),
            bytes[(position + 2)..<(position + length)].allSatisfy({ (0x80...0xBF).contains($0) })
        else { throw error(.invalidUTF8) }
        utf8.append(contentsOf: bytes[position..<(position + length)])
        position += length
    }

    // MARK: Numbers and literals

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`; integers that fit become ``JSONValue/integer(_:)``.
    private mutating func parseNumber() throws(JSONParseError) -> JSONValue {
        let start = position
        if peek() == UInt8(ascii: "-") { position += 1 }
        guard let first = peek(), isDigit(first) else { throw error(.invalidNumber) }
        position += 1
        if first == UInt8(ascii: "0") {
            if let next = peek(), isDigit(next) { throw error(.invalidNumber) }
        } else {
            skipDigits()
        }
        var isInteger = true
        if peek() == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            guard let next = peek(), isDigit(next) else { throw error(.invalidNumber) }
            skipDigits()
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            isInteger = false
            position += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { position += 1 }
            guard let next = peek(), isDigit(next) else { throw error(.invalidNumber) }
            skipDigits()
        }
        guard position - start <= Self.maximumNumberLength else {
            throw error(.numberTooLong(maximum: Self.maximumNumberLength), at: start)
        }
        let literal = String(decoding: bytes[start..<position], as: UTF8.self)
        if isInteger, let value = Int64(literal) { return .integer(value) }
        return .number(literal)
    }

    private mutating func skipDigits() {
        while let byte = peek(), isDigit(byte) { position += 1 }
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    private mutating func expectLiteral(_ literal: String) throws(JSONParseError) {
        guard bytes[position...].starts(with: literal.utf8) else { throw error(.unexpectedCharacter) }
        position += literal.utf8.count
    }

    /// Throws ``JSONParseError/Reason/infinity`` for `Infinity` (Python writes it for a float infinity), else a plain syntax error.
    private func refuseInfinity(at offset: Int) throws(JSONParseError) -> Never {
        guard bytes[offset...].starts(with: "Infinity".utf8) else { throw error(.unexpectedCharacter, at: offset) }
        throw error(.infinity, at: position)
    }

    private mutating func expect(_ byte: UInt8, _ description: String) throws(JSONParseError) {
        guard let next = peek() else { throw error(.unexpectedEnd) }
        guard next == byte else { throw error(.expected(description)) }
        position += 1
    }

    private mutating func skipWhitespace() {
        while let byte = peek(),
            byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\t")
        {
            position += 1
        }
    }

    private func peek() -> UInt8? {
        position < bytes.count ? bytes[position] : nil
    }

    private func error(_ reason: JSONParseError.Reason, at offset: Int? = nil) -> JSONParseError {
        JSONParseError(reason: reason, offset: offset ?? position, topLevelKey: topLevelKey)
    }
}
