/// A parsed JSON document, as ``JSONParser`` produces it.
///
/// Objects keep their members in document order, because jsonpickle's `py/id` back-references count
/// nodes in that order; a key appears once (``JSONParser/Options/DuplicateKeys``). Integers are exact.
public enum JSONValue: Sendable, Hashable {
    /// `null`, and also the bare token `NaN` under ``JSONParser/Options/NonFiniteNumbers/nanAsNull``.
    case null
    case bool(Bool)
    /// A number without fraction or exponent that fits in 64 bits.
    case integer(Int64)
    /// Any other number, kept as its literal text: a fraction, an exponent, an integer beyond 64 bits, or
    /// `NaN`, `Infinity` and `-Infinity` under ``JSONParser/Options/NonFiniteNumbers/accept``.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([Member])

    /// One member of an object.
    public struct Member: Sendable, Hashable {
        public var key: String
        public var value: JSONValue

        public init(key: String, value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    /// The value of the member named `key` in an object; `nil` for a missing key or a non-object.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// Whether a ``number(_:)`` literal is an integer (digits after an optional minus, too large for
    /// ``integer(_:)``) rather than a fraction, an exponent or a non-finite token: Python's `int`, not `float`.
    public static func isIntegerLiteral(_ literal: String) -> Bool {
        let digits = literal.utf8.first == UInt8(ascii: "-") ? literal.utf8.dropFirst() : literal.utf8[...]
        return !digits.isEmpty && digits.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }

    /// What kind of value this is, for error messages (never the value itself).
    var kindDescription: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .integer, .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}
