extension JSONValue {
    /// The value as JSON text that ``JSONParser`` reads back to the same value: no whitespace, members in their
    /// order, integers in decimal, strings (keys too) by ``quoted(_:)``, other numbers by `number` (by default their
    /// literal, `NaN` and `Infinity` too; PixlAPI writes them as Python's `json.dumps` does).
    /// > Warning: The text holds whatever the value holds, identifiers included; never log it.
    public func jsonText(number: (String, inout String) -> Void = { literal, out in out += literal }) -> String {
        var out = ""
        write(to: &out, number: number)
        return out
    }

    private func write(to out: inout String, number: (String, inout String) -> Void) {
        switch self {
        case .object(let members):
            out += "{"
            for (index, member) in members.enumerated() {
                if index > 0 { out += "," }
                out += Self.quoted(member.key)
                out += ":"
                member.value.write(to: &out, number: number)
            }
            out += "}"
        case .array(let elements):
            out += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { out += "," }
                element.write(to: &out, number: number)
            }
            out += "]"
        case .string(let string): out += Self.quoted(string)
        case .integer(let value): out += String(value)
        case .number(let literal): number(literal, &out)
        case .bool(let value): out += value ? "true" : "false"
        case .null: out += "null"
        }
    }

    /// `text` as a JSON string literal, as Python's `json.dumps(ensure_ascii=False)` writes it: quotes, backslashes and
    /// control characters escaped (`\n`, `\b`, … where JSON has a short form, else `\u00XX`), everything else as is.
    public static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
