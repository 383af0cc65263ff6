/// Why ``StrictJSONParser`` refused a body, and where.
struct JSONParseError: Error, Sendable, Hashable {
    var reason: Reason
    /// Byte offset into the body where the problem was found.
    var offset: Int
    /// The key of the top-level object member being parsed when the error occurred (for a duplicate
    /// top-level key, that key); `nil` outside the top-level object's members.
    var topLevelKey: String?

    enum Reason: Sendable, Hashable, CustomStringConvertible {
        case byteOrderMark
        case unexpectedEnd
        case unexpectedCharacter
        /// A fixed description of what the grammar expected (`"':'"`, `"',' or '}'"`).
        case expected(String)
        case trailingData
        case nestingTooDeep(maximum: Int)
        case invalidUTF8
        case loneSurrogate
        case invalidEscape
        case controlCharacterInString
        case stringTooLong(maximumBytes: Int)
        case invalidNumber
        case numberTooLong(maximum: Int)
        case infinity
        /// `topLevel` when the key repeats in the body's top-level object (a message field given twice).
        case duplicateKey(topLevel: Bool)

        // Fixed texts only: nothing from the body appears here, because bodies hold patient identifiers.
        var description: String {
            switch self {
            case .byteOrderMark: "the body starts with a UTF-8 byte order mark"
            case .unexpectedEnd: "unexpected end of input"
            case .unexpectedCharacter: "unexpected character"
            case .expected(let what): "expected \(what)"
            case .trailingData: "extra data after the JSON value"
            case .nestingTooDeep(let maximum): "nesting deeper than \(maximum) levels"
            case .invalidUTF8: "invalid UTF-8"
            case .loneSurrogate: "unpaired UTF-16 surrogate escape"
            case .invalidEscape: "invalid escape sequence"
            case .controlCharacterInString: "unescaped control character in a string"
            case .stringTooLong(let maximum): "string longer than \(maximum) bytes"
            case .invalidNumber: "malformed number"
            case .numberTooLong(let maximum): "number longer than \(maximum) characters"
            case .infinity: "Infinity is not a number"
            case .duplicateKey: "duplicate key in an object"
            }
        }
    }
}
