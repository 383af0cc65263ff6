import PixlCore

extension JSONValue {
    /// The value with Python's `NaN` as a message reads it (null): a document both option sets accept then
    /// gives the same value under each.
    public var nanAsNull: JSONValue {
        switch self {
        case .number("NaN"): .null
        case .array(let elements): .array(elements.map(\.nanAsNull))
        case .object(let members): .object(members.map { JSONValue.Member(key: $0.key, value: $0.value.nanAsNull) })
        default: self
        }
    }
}
