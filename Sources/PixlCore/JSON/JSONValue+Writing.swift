extension JSONValue {
    /// The value as JSON text that ``JSONParser`` reads back to the same value: no whitespace, members in their
    /// order, integers in decimal, other numbers as their literal (`NaN` and `Infinity` too), strings quoted by
    /// ``writeQuoted(_:to:)``.
    ///
    /// `quoting` and `number` write strings (keys too) and ``number(_:)`` literals otherwise: PixlAPI writes them
    /// as Python's `json.dumps` does.
    /// > Warning: The text holds whatever the value holds, identifiers included; never log it.
    public func jsonText(
        quoting: (String, inout String) -> Void = { JSONValue.writeQuoted($0, to: &$1) },
        number: (String, inout String) -> Void = { literal, out in out += literal }
    ) -> String {
        var out = ""
        write(to: &out, quoting: quoting, number: number)
        return out
    }

    private func write(to out: inout String, quoting: (String, inout String) -> Void, number: (String, inout String) -> Void) {
        switch self {
        case .object(let members):
            out += "{"
            for (index, member) in members.enumerated() {
                if index > 0 { out += "," }
                quoting(member.key, &out)
                out += ":"
                member.value.write(to: &out, quoting: quoting, number: number)
            }
            out += "}"
        case .array(let elements):
            out += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { out += "," }
                element.write(to: &out, quoting: quoting, number: number)
            }
            out += "]"
        case .string(let string): quoting(string, &out)
        case .integer(let value): out += String(value)
        case .number(let literal): number(literal, &out)
        case .bool(let value): out += value ? "true" : "false"
        case .null: out += "null"
        }
    }

    /// A JSON string literal: quotes, backslashes, `\n`, `\r` and `\t` escaped (and `\b` and `\f` with
    /// `escapingBackspaceAndFormFeed`, as Python's `json.dumps`), other control characters as `\u00XX`, everything
    /// else as UTF-8.
    public static func writeQuoted(_ text: String, to out: inout String, escapingBackspaceAndFormFeed: Bool = false) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}" where escapingBackspaceAndFormFeed: out += "\\b"
            case "\u{0C}" where escapingBackspaceAndFormFeed: out += "\\f"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
