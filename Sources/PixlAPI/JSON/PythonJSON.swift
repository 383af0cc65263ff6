public import PixlCore

/// Python's `json` module as PIXL's FastAPI service uses it, on top of ``JSONParser``: bodies read as
/// `json.loads` reads them, errors worded as `json.JSONDecodeError` words them, and values written as
/// Starlette's `JSONResponse` writes them (``JSONValue/serialized()``).
enum PythonJSON {
    /// Parses a body as `json.loads` does.
    static func parse(_ body: [UInt8]) throws(PythonJSONError) -> JSONValue {
        try reading(body) { () throws(JSONParseError) in try JSONParser.parse(body, options: .python) }
    }

    /// Reads a body as `json.loads` does, handing on each item as soon as it is read
    /// (``JSONParser/forEachItem(of:options:itemOptions:_:)``).
    @discardableResult
    static func forEachItem(
        of body: [UInt8],
        itemOptions: JSONParser.Options? = nil,
        _ handle: @escaping (JSONParser.Batch.Item) -> Void
    ) throws(PythonJSONError) -> JSONParser.Batch.Shape {
        try reading(body) { () throws(JSONParseError) in
            try JSONParser.forEachItem(of: body, options: .python, itemOptions: itemOptions, handle)
        }
    }

    /// Runs `parse` on `body` as json.loads reads it: invalid UTF-8 is the first error, then the parser's, worded as Python's.
    private static func reading<Result>(_ body: [UInt8], _ parse: () throws(JSONParseError) -> Result) throws(PythonJSONError) -> Result {
        try checkUTF8(body)
        do {
            return try parse()
        } catch {
            throw PythonJSONError(error)
        }
    }

    /// json.loads decodes the bytes before it parses them: invalid UTF-8 anywhere is its first error. Checked scalar by
    /// scalar, without making a String of the body.
    private static func checkUTF8(_ body: [UInt8]) throws(PythonJSONError) {
        var bytes = body.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        while true {
            switch parser.parseScalar(from: &bytes) {
            case .valid: continue
            case .emptyInput: return
            case .error: throw PythonJSONError(message: "Invalid UTF-8", position: 0)
            }
        }
    }
}

/// A JSON decode error as Python's `json.JSONDecodeError` reports it: the message and the character offset.
struct PythonJSONError: Error, Sendable, Hashable {
    var message: String
    /// Offset in characters (Unicode scalars) of the decoded text, as Python's `pos`.
    var position: Int

    init(message: String, position: Int) {
        self.message = message
        self.position = position
    }

    init(_ error: JSONParseError) {
        self.init(message: Self.message(error.reason), position: error.characterOffset)
    }

    private static func message(_ reason: JSONParseError.Reason) -> String {
        switch reason {
        case .unexpectedEnd(.stringEnd): "Unterminated string starting at"
        case .unexpectedEnd(let expectation), .unexpectedCharacter(let expectation): expecting(expectation)
        case .invalidNumber(let then): then.map(expecting) ?? "Extra data"
        case .trailingComma(let inObject): "Illegal trailing comma before end of \(inObject ? "object" : "array")"
        case .trailingData: "Extra data"
        case .controlCharacterInString: "Invalid control character at"
        case .invalidEscape: "Invalid \\escape"
        case .invalidUnicodeEscape: "Invalid \\uXXXX escape"
        case .invalidUTF8: "Invalid UTF-8"
        case .nestingTooDeep: "Nesting too deep"
        // Python accepts these (JSONParser.Options.python): worded as the parser words them.
        case .byteOrderMark, .loneSurrogate, .stringTooLong, .numberTooLong, .infinity, .duplicateKey: reason.description
        }
    }

    private static func expecting(_ expectation: JSONParseError.Reason.Expectation) -> String {
        switch expectation {
        case .value, .stringEnd: "Expecting value"
        case .key: "Expecting property name enclosed in double quotes"
        case .colon: "Expecting ':' delimiter"
        case .commaOrObjectEnd, .commaOrArrayEnd: "Expecting ',' delimiter"
        case .hexDigits: "Invalid \\uXXXX escape"
        }
    }
}

extension JSONValue {
    /// An object with these members, in this order.
    public static func object(_ members: KeyValuePairs<String, JSONValue>) -> JSONValue {
        .object(members.map { Member(key: $0.key, value: $0.value) })
    }

    /// A Python `float`.
    static func float(_ value: Double) -> JSONValue {
        .number("\(value)")
    }

    /// Starlette's `JSONResponse` rendering: `json.dumps(ensure_ascii=False, separators=(",", ":"))`.
    ///
    /// Non-finite floats, which Starlette refuses (500), are written as strings.
    public func serialized() -> String {
        jsonText(number: Self.writePythonNumber)
    }

    /// A number literal as Python writes the value: an `int` as it is, a `float` as its `repr`.
    private static func writePythonNumber(_ literal: String, to out: inout String) {
        if isIntegerLiteral(literal) {
            out += literal
            return
        }
        let value = Double(literal) ?? .nan
        if value.isFinite { out += pythonFloatRepr(value) } else { out += quoted(pythonFloatRepr(value)) }
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
