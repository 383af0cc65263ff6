/// Why ``JSONParser`` refused a document, and where.
///
/// Holds no text from the document, because documents hold patient identifiers: ``Reason/description``
/// is a fixed text, and the rest are offsets and the name of a top-level key.
public struct JSONParseError: Error, Sendable, Hashable {
    public var reason: Reason
    /// Byte offset into the document (or into the batch item, for ``JSONParser/Batch/Item/violation``).
    public var offset: Int
    /// Where Python's `json.JSONDecodeError` puts its `pos` for this fault, in characters (Unicode scalars)
    /// after a skipped byte order mark: the opening quote of an unterminated string, the backslash of a bad
    /// `\u` escape, the end of a cut-short number's valid start, otherwise the same place as ``offset``.
    public var characterOffset: Int
    /// The key of the root object's member being parsed when the error occurred (for a duplicate key of the
    /// root object, that key); `nil` outside the root object's members. The root is the document's value,
    /// or the item's in a batch.
    public var topLevelKey: String?

    /// What the parser found wrong, fine-grained enough to word it as Python's `json` module does.
    public enum Reason: Sendable, Hashable, CustomStringConvertible {
        case byteOrderMark
        case invalidUTF8
        /// The input ended where `expecting` was required.
        case unexpectedEnd(expecting: Expectation)
        /// Another character stood where `expecting` was required.
        case unexpectedCharacter(expecting: Expectation)
        /// A comma just before the `}` (`inObject`) or `]` that closes a container.
        case trailingComma(inObject: Bool)
        case trailingData
        case nestingTooDeep(maximum: Int)
        case controlCharacterInString
        case invalidEscape
        /// A character that is not a hexadecimal digit in the four after `\u`.
        case invalidUnicodeEscape
        case loneSurrogate
        case stringTooLong(maximumBytes: Int)
        /// A malformed number: a minus sign, a decimal point or an exponent without a digit after it, or a
        /// digit after a leading zero. Python reads the number's valid start, then wants `then`: what follows
        /// a value there (`nil` at the end of the document), or ``Expectation/value`` when there is no valid start.
        case invalidNumber(then: Expectation?)
        case numberTooLong(maximum: Int)
        /// `Infinity` or `-Infinity` (Python writes them for a float infinity).
        case infinity
        /// `topLevel` when the key repeats in the root object (a message field given twice).
        case duplicateKey(topLevel: Bool)

        /// What the grammar required where the parser stopped.
        public enum Expectation: Sendable, Hashable {
            case value, key, colon, commaOrObjectEnd, commaOrArrayEnd
            /// The closing quote of a string.
            case stringEnd
            /// The four hexadecimal digits after `\u`.
            case hexDigits
        }

        public var description: String {
            switch self {
            case .byteOrderMark: "the body starts with a UTF-8 byte order mark"
            case .invalidUTF8: "invalid UTF-8"
            case .unexpectedEnd: "unexpected end of input"
            case .unexpectedCharacter(.key): "expected a string key"
            case .unexpectedCharacter(.colon): "expected ':'"
            case .unexpectedCharacter(.commaOrObjectEnd): "expected ',' or '}'"
            case .unexpectedCharacter(.commaOrArrayEnd): "expected ',' or ']'"
            case .unexpectedCharacter: "unexpected character"
            case .trailingComma(let inObject): inObject ? "expected a string key" : "unexpected character"
            case .trailingData: "extra data after the JSON value"
            case .nestingTooDeep(let maximum): "nesting deeper than \(maximum) levels"
            case .controlCharacterInString: "unescaped control character in a string"
            case .invalidEscape, .invalidUnicodeEscape: "invalid escape sequence"
            case .loneSurrogate: "unpaired UTF-16 surrogate escape"
            case .stringTooLong(let maximum): "string longer than \(maximum) bytes"
            case .invalidNumber: "malformed number"
            case .numberTooLong(let maximum): "number longer than \(maximum) characters"
            case .infinity: "Infinity is not a number"
            case .duplicateKey: "duplicate key in an object"
            }
        }
    }
}
