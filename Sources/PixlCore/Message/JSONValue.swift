/// A parsed JSON document, as ``StrictJSONParser`` produces it.
///
/// Objects keep their members in document order, because jsonpickle's `py/id` back-references count
/// nodes in that order.
enum JSONValue: Sendable, Equatable {
    /// `null`, and also the bare token `NaN` (PIXL's CLI writes an empty CSV cell as a float NaN).
    case null
    case bool(Bool)
    /// A number without fraction or exponent that fits in 64 bits.
    case integer(Int64)
    /// Any other number (a fraction, an exponent, or an integer beyond 64 bits), kept as its literal text.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([Member])

    struct Member: Sendable, Equatable {
        var key: String
        var value: JSONValue
    }

    /// The value of the member named `key` in an object; `nil` for a missing key or a non-object.
    subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
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
