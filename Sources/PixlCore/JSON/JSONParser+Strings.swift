extension JSONParser {
    /// A string, from its opening quote; at most ``Options/maximumStringBytes`` of UTF-8 once unescaped.
    mutating func parseString() throws(JSONParseError) -> String {
        let start = position
        position += 1
        var utf8: [UInt8] = []
        while true {
            // Copy a run of plain ASCII in one go.
            let runStart = position
            while position < bytes.count, bytes[position] >= 0x20, bytes[position] < 0x80,
                bytes[position] != UInt8(ascii: "\""), bytes[position] != UInt8(ascii: "\\")
            {
                position += 1
            }
            utf8.append(contentsOf: bytes[runStart..<position])
            guard let byte = peek() else { throw error(.unexpectedEnd(expecting: .stringEnd), pythonAt: start) }
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                try enforceLength(of: utf8, at: start)
                return String(decoding: utf8, as: UTF8.self)
            case UInt8(ascii: "\\"):
                try parseEscape(into: &utf8, stringStart: start)
            case 0..<0x20:
                throw error(.controlCharacterInString)
            default:
                try copyMultiByteSequence(into: &utf8)
            }
            try enforceLength(of: utf8, at: start)
        }
    }

    private mutating func enforceLength(of utf8: [UInt8], at start: Int) throws(JSONParseError) {
        try enforce(at: start) { utf8.count > $0.maximumStringBytes ? .stringTooLong(maximumBytes: $0.maximumStringBytes) : nil }
    }

    private mutating func parseEscape(into utf8: inout [UInt8], stringStart: Int) throws(JSONParseError) {
        let escapeStart = position
        position += 1
        guard let byte = peek() else { throw error(.unexpectedEnd(expecting: .stringEnd), pythonAt: stringStart) }
        position += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(byte)
        case UInt8(ascii: "b"): utf8.append(0x08)
        case UInt8(ascii: "f"): utf8.append(0x0C)
        case UInt8(ascii: "n"): utf8.append(0x0A)
        case UInt8(ascii: "r"): utf8.append(0x0D)
        case UInt8(ascii: "t"): utf8.append(0x09)
        case UInt8(ascii: "u"):
            var value = try parseHexQuad(escapeStart: escapeStart)
            if (0xD800...0xDBFF).contains(value), bytes[position...].starts(with: [UInt8(ascii: "\\"), UInt8(ascii: "u")]) {
                let lowStart = position
                position += 2
                let low = try parseHexQuad(escapeStart: lowStart)
                if (0xDC00...0xDFFF).contains(low) {
                    value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
                } else {
                    position = lowStart  // read again as an escape of its own
                }
            }
            if (0xD800...0xDFFF).contains(value) {
                try enforce(at: escapeStart) { $0.loneSurrogates == .refuse ? .loneSurrogate : nil }
            }
            UTF8.encode(Unicode.Scalar(value) ?? "\u{FFFD}") { utf8.append($0) }
        default:
            throw error(.invalidEscape, at: escapeStart)
        }
    }

    /// The four hexadecimal digits after `\u`.
    private mutating func parseHexQuad(escapeStart: Int) throws(JSONParseError) -> UInt32 {
        guard position + 4 <= bytes.count else { throw error(.unexpectedEnd(expecting: .hexDigits), pythonAt: escapeStart) }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error(.invalidUnicodeEscape, pythonAt: escapeStart)
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }

    /// Validates and copies one multi-byte UTF-8 sequence (Unicode Table 3-7: no overlong forms,
    /// no encoded surrogates, nothing above U+10FFFF).
    private mutating func copyMultiByteSequence(into utf8: inout [UInt8]) throws(JSONParseError) {
        let lead = bytes[position]
        let length: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0:
            length = 3
            secondRange = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED:
            length = 3
            secondRange = 0x80...0x9F
        case 0xF0:
            length = 4
            secondRange = 0x90...0xBF
        case 0xF1...0xF3: length = 4
        case 0xF4:
            length = 4
            secondRange = 0x80...0x8F
        default: throw error(.invalidUTF8)
        }
        guard position + length <= bytes.count, secondRange.contains(bytes[position + 1]),
            bytes[(position + 2)..<(position + length)].allSatisfy({ (0x80...0xBF).contains($0) })
        else { throw error(.invalidUTF8) }
        utf8.append(contentsOf: bytes[position..<(position + length)])
        position += length
    }
}
