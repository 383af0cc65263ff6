/// A JSON value as Python's `json` module reads it: object keys in order, integers kept exact, and the
/// `NaN` / `Infinity` / `-Infinity` tokens accepted. Used to answer byte for byte as PIXL's FastAPI does.
enum PythonJSON: Sendable, Hashable {
    case object([(key: String, value: PythonJSON)])
    case array([PythonJSON])
    case string(String)
    /// An integer literal, normalised as Python prints it.
    case int(String)
    case float(Double)
    case bool(Bool)
    case null

    static func == (lhs: PythonJSON, rhs: PythonJSON) -> Bool {
        lhs.serialized() == rhs.serialized()
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(serialized())
    }

    /// The value of `key` in an object (the last one, as Python's `dict`).
    subscript(key: String) -> PythonJSON? {
        guard case .object(let members) = self else { return nil }
        return members.last(where: { $0.key == key })?.value
    }

    /// Starlette's `JSONResponse` rendering: `json.dumps(ensure_ascii=False, separators=(",", ":"))`.
    ///
    /// Non-finite floats, which Starlette refuses (500), are written as strings.
    func serialized() -> String {
        var out = ""
        write(to: &out)
        return out
    }

    func write(to out: inout String) {
        switch self {
        case .object(let members):
            // A dict keeps the first position and the last value of a repeated key.
            var order: [String] = []
            var values: [String: PythonJSON] = [:]
            for (key, value) in members {
                if values.updateValue(value, forKey: key) == nil { order.append(key) }
            }
            out += "{"
            for (index, key) in order.enumerated() {
                if index > 0 { out += "," }
                out += PythonJSON.quoted(key)
                out += ":"
                values[key]!.write(to: &out)
            }
            out += "}"
        case .array(let elements):
            out += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { out += "," }
                element.write(to: &out)
            }
            out += "]"
        case .string(let string): out += PythonJSON.quoted(string)
        case .int(let digits): out += digits
        case .float(let value): out += value.isFinite ? pythonFloatRepr(value) : PythonJSON.quoted(pythonFloatRepr(value))
        case .bool(let value): out += value ? "true" : "false"
        case .null: out += "null"
        }
    }

    /// A JSON string as `json.dumps(ensure_ascii=False)` writes it.
    static func quoted(_ string: String) -> String {
        var out = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

/// Python's `repr(float)`: the shortest round-tripping digits, fixed notation for decimal exponents
/// from -4 to 15, otherwise `d.ddde±XX`; always a `.0` on integral values; `inf`, `-inf`, `nan`.
func pythonFloatRepr(_ value: Double) -> String {
    if value.isNaN { return "nan" }
    if value.isInfinite { return value < 0 ? "-inf" : "inf" }
    if value == 0 { return value.sign == .minus ? "-0.0" : "0.0" }
    // Swift's description also gives the shortest round-tripping digits; re-lay them out as Python does.
    var text = "\(value.magnitude)"
    var exponentAdjust = 0
    if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
        exponentAdjust = Int(text[text.index(after: e)...]) ?? 0
        text = String(text[..<e])
    }
    let parts = text.split(separator: ".", omittingEmptySubsequences: false)
    let integerPart = String(parts[0])
    let fractionPart = parts.count > 1 ? String(parts[1]) : ""
    var digits = integerPart + fractionPart
    var pointPosition = integerPart.count + exponentAdjust  // digits before the decimal point
    // Strip leading zeros.
    while digits.count > 1, digits.first == "0" {
        digits.removeFirst()
        pointPosition -= 1
    }
    while digits.count > 1, digits.last == "0" { digits.removeLast() }
    let exponent = pointPosition - 1  // scientific exponent of the first digit
    let sign = value < 0 ? "-" : ""
    if exponent >= -4 && exponent < 16 {
        if pointPosition <= 0 {
            return sign + "0." + String(repeating: "0", count: -pointPosition) + digits
        } else if pointPosition >= digits.count {
            return sign + digits + String(repeating: "0", count: pointPosition - digits.count) + ".0"
        } else {
            let index = digits.index(digits.startIndex, offsetBy: pointPosition)
            return sign + digits[..<index] + "." + digits[index...]
        }
    }
    var mantissa = String(digits.first!)
    if digits.count > 1 { mantissa += "." + digits.dropFirst() }
    let magnitude = abs(exponent)
    return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + (magnitude < 10 ? "0" : "") + String(magnitude)
}

/// A JSON decode error as Python's `json.JSONDecodeError` reports it: the message and the character offset.
struct PythonJSONError: Error, Sendable, Hashable {
    var message: String
    /// Offset in characters (Unicode scalars) of the decoded text, as Python's `pos`.
    var position: Int
}

/// Parses JSON as Python's `json.loads`, keeping the byte range of each top-level array element.
struct PythonJSONParser {
    private let bytes: [UInt8]
    private var index: Int = 0
    private var depth = 0
    private static let maximumDepth = 512

    init(_ bytes: [UInt8]) {
        // json.loads on bytes decodes UTF-8 with an optional byte-order mark.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            self.bytes = Array(bytes.dropFirst(3))
        } else {
            self.bytes = bytes
        }
    }

    /// Parses a whole document.
    static func parse(_ bytes: [UInt8]) throws(PythonJSONError) -> PythonJSON {
        var parser = PythonJSONParser(bytes)
        return try parser.document().value
    }

    /// Parses a whole document, returning also the byte ranges of the elements when it is an array.
    static func parseWithElementRanges(_ bytes: [UInt8]) throws(PythonJSONError) -> (value: PythonJSON, elements: [ArraySlice<UInt8>]?) {
        var parser = PythonJSONParser(bytes)
        let (value, ranges) = try parser.document()
        return (value, ranges.map { $0.map { parser.bytes[$0] } })
    }

    private mutating func document() throws(PythonJSONError) -> (value: PythonJSON, ranges: [Range<Int>]?) {
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw PythonJSONError(message: "Invalid UTF-8", position: 0)
        }
        skipWhitespace()
        var ranges: [Range<Int>]?
        let value: PythonJSON
        if index < bytes.count, bytes[index] == UInt8(ascii: "[") {
            var collected: [Range<Int>] = []
            value = try array(ranges: &collected)
            ranges = collected
        } else {
            value = try self.value()
        }
        skipWhitespace()
        if index != bytes.count { throw error("Extra data") }
        return (value, ranges)
    }

    private func error(_ message: String, at byteOffset: Int? = nil) -> PythonJSONError {
        let offset = min(byteOffset ?? index, bytes.count)
        // Python counts characters, not bytes.
        let position = bytes[..<offset].reduce(0) { $0 + (($1 & 0xC0) == 0x80 ? 0 : 1) }
        return PythonJSONError(message: message, position: position)
    }

    private mutating func skipWhitespace() {
        while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
    }

    private func hasPrefix(_ literal: String) -> Bool {
        let utf8 = Array(literal.utf8)
        return bytes.count - index >= utf8.count && Array(bytes[index..<index + utf8.count]) == utf8
    }

    private mutating func value() throws(PythonJSONError) -> PythonJSON {
        guard index < bytes.count else { throw error("Expecting value") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["):
            var ignored: [Range<Int>] = []
            return try array(ranges: &ignored)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "n") where hasPrefix("null"):
            index += 4
            return .null
        case UInt8(ascii: "t") where hasPrefix("true"):
            index += 4
            return .bool(true)
        case UInt8(ascii: "f") where hasPrefix("false"):
            index += 5
            return .bool(false)
        case UInt8(ascii: "N") where hasPrefix("NaN"):
            index += 3
            return .float(.nan)
        case UInt8(ascii: "I") where hasPrefix("Infinity"):
            index += 8
            return .float(.infinity)
        case UInt8(ascii: "-") where hasPrefix("-Infinity"):
            index += 9
            return .float(-.infinity)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try number()
        default:
            throw error("Expecting value")
        }
    }

    private mutating func enter() throws(PythonJSONError) {
        depth += 1
        if depth > Self.maximumDepth { throw error("Nesting too deep") }
    }

    private mutating func object() throws(PythonJSONError) -> PythonJSON {
        try enter()
        defer { depth -= 1 }
        index += 1
        var members: [(key: String, value: PythonJSON)] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                throw error("Expecting property name enclosed in double quotes")
            }
            let key = try string()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("Expecting ':' delimiter") }
            index += 1
            skipWhitespace()
            members.append((key, try value()))
            skipWhitespace()
            guard index < bytes.count else { throw error("Expecting ',' delimiter") }
            if bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(members)
            }
            guard bytes[index] == UInt8(ascii: ",") else { throw error("Expecting ',' delimiter") }
            index += 1
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                throw error("Illegal trailing comma before end of object")
            }
        }
    }

    private mutating func array(ranges: inout [Range<Int>]) throws(PythonJSONError) -> PythonJSON {
        try enter()
        defer { depth -= 1 }
        index += 1
        var elements: [PythonJSON] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            let start = index
            elements.append(try value())
            ranges.append(start..<index)
            skipWhitespace()
            guard index < bytes.count else { throw error("Expecting ',' delimiter") }
            if bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(elements)
            }
            guard bytes[index] == UInt8(ascii: ",") else { throw error("Expecting ',' delimiter") }
            index += 1
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                throw error("Illegal trailing comma before end of array")
            }
        }
    }

    private mutating func string() throws(PythonJSONError) -> String {
        let start = index
        index += 1
        var scalars = String.UnicodeScalarView()
        var run = index
        func flush(_ bytes: [UInt8], _ from: Int, _ to: Int, into scalars: inout String.UnicodeScalarView) {
            if to > from { scalars.append(contentsOf: String(decoding: bytes[from..<to], as: UTF8.self).unicodeScalars) }
        }
        while true {
            guard index < bytes.count else { throw error("Unterminated string starting at", at: start) }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                flush(bytes, run, index, into: &scalars)
                index += 1
                return String(scalars)
            }
            if byte < 0x20 { throw error("Invalid control character at") }
            if byte == UInt8(ascii: "\\") {
                flush(bytes, run, index, into: &scalars)
                index += 1
                guard index < bytes.count else { throw error("Unterminated string starting at", at: start) }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""): scalars.append("\"")
                case UInt8(ascii: "\\"): scalars.append("\\")
                case UInt8(ascii: "/"): scalars.append("/")
                case UInt8(ascii: "b"): scalars.append("\u{08}")
                case UInt8(ascii: "f"): scalars.append("\u{0C}")
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "u"):
                    var code = try hex4(escapeStart: index - 2)
                    if (0xD800..<0xDC00).contains(code), hasPrefix("\\u") {
                        let saved = index
                        index += 2
                        let low = try hex4(escapeStart: index - 2)
                        if (0xDC00..<0xE000).contains(low) {
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            index = saved
                        }
                    }
                    // Lone surrogates cannot be held in a Swift string: replace them.
                    scalars.append(Unicode.Scalar(code) ?? "\u{FFFD}")
                default:
                    throw error("Invalid \\escape", at: index - 2)
                }
                run = index
                continue
            }
            index += 1
        }
    }

    private mutating func hex4(escapeStart: Int) throws(PythonJSONError) -> UInt32 {
        guard bytes.count - index >= 4 else { throw error("Invalid \\uXXXX escape", at: escapeStart) }
        var code: UInt32 = 0
        for offset in 0..<4 {
            guard let digit = hexValue(bytes[index + offset]) else { throw error("Invalid \\uXXXX escape", at: escapeStart) }
            code = code * 16 + digit
        }
        index += 4
        return code
    }

    private func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    /// Python's number grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?`.
    private mutating func number() throws(PythonJSONError) -> PythonJSON {
        let start = index
        func isDigit(_ i: Int) -> Bool { i < bytes.count && (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i]) }
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard isDigit(index) else {
            index = start
            throw error("Expecting value")
        }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            while isDigit(index) { index += 1 }
        }
        var isFloat = false
        if index < bytes.count, bytes[index] == UInt8(ascii: "."), isDigit(index + 1) {
            isFloat = true
            index += 1
            while isDigit(index) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            var probe = index + 1
            if probe < bytes.count, bytes[probe] == UInt8(ascii: "+") || bytes[probe] == UInt8(ascii: "-") { probe += 1 }
            if isDigit(probe) {
                isFloat = true
                index = probe
                while isDigit(index) { index += 1 }
            }
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        if isFloat {
            return .float(Double(text) ?? .nan)
        }
        var digits = Substring(text)
        let negative = digits.first == "-"
        if negative { digits = digits.dropFirst() }
        if digits == "0" { return .int("0") }
        return .int((negative ? "-" : "") + digits)
    }
}
