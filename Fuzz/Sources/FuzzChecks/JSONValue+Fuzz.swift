import PixlCore

extension JSONValue {
    /// The value as JSON text that ``JSONParser`` reads back to the same value under either option set: strings
    /// with quotes, backslashes and control characters escaped, numbers and `NaN` or `Infinity` as their literal.
    public func jsonText() -> String {
        var out = ""
        write(to: &out)
        return out
    }

    private func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let value): out += value ? "true" : "false"
        case .integer(let value): out += String(value)
        case .number(let literal): out += literal
        case .string(let text): Self.writeQuoted(text, to: &out)
        case .array(let elements):
            out += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { out += "," }
                element.write(to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (index, member) in members.enumerated() {
                if index > 0 { out += "," }
                Self.writeQuoted(member.key, to: &out)
                out += ":"
                member.value.write(to: &out)
            }
            out += "}"
        }
    }

    private static func writeQuoted(_ text: String, to out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

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
