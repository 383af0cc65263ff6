/// Reading the events of an iCalendar (RFC 5545) text as closed days: see ``ClosedDays/parse(_:variable:)``.
extension ClosedDaysParser {
    /// A `DTSTART` or `DTEND` as written: seconds since 1970-01-01T00:00 on the clock of whatever zone it names,
    /// which is deliberately not converted. A date is its midnight.
    private struct WrittenTime {
        var seconds: Int
        var isDate: Bool
    }

    /// A property that matters, with where it came from for the errors.
    private struct Located<Value> {
        var value: Value
        var line: Int
        var text: Substring
    }

    /// The properties of one `VEVENT` read so far.
    private struct Event {
        var line: Int
        var start: Located<WrittenTime>?
        var end: Located<WrittenTime>?
        /// Seconds.
        var duration: Located<Int>?
        var isCancelled = false
    }

    /// A content line, `NAME;PARAM=VALUE:value`, with the names upper-cased.
    private struct Property {
        var name: String
        var parameters: [String: String]
        var value: String
    }

    private static let secondsPerDay = 86_400

    // MARK: Components

    mutating func iCalendar(_ lines: [Substring]) throws(ConfigurationError) -> [ClosedRange<CalendarDate>] {
        var ranges: [ClosedRange<CalendarDate>] = []
        var open: [(name: String, line: Int)] = []
        var event: Event?
        for (number, text) in Self.unfolded(lines) where !text.allSatisfy(\.isWhitespace) {
            let property = try contentLine(text, line: number)
            switch property.name {
            case "BEGIN":
                let component = try componentName(property, line: number, text: text)
                if open.isEmpty, component != "VCALENDAR" {
                    throw error(line: number, "is outside BEGIN:VCALENDAR … END:VCALENDAR", quoting: text)
                }
                if component == "VEVENT" {
                    guard let parent = open.last, parent.name == "VCALENDAR" else {
                        throw error(line: number, "opens a VEVENT inside \(open.last?.name ?? "nothing")", quoting: text)
                    }
                    try count(line: number)
                    event = Event(line: number)
                }
                open.append((component, number))
            case "END":
                let component = try componentName(property, line: number, text: text)
                guard let innermost = open.last else {
                    throw error(line: number, "closes \(component), which is not open", quoting: text)
                }
                guard innermost.name == component else {
                    throw error(line: number, "closes \(component) but \(innermost.name) (line \(innermost.line)) is open", quoting: text)
                }
                open.removeLast()
                if component == "VEVENT", let finished = event {
                    event = nil
                    if let range = try range(of: finished) { ranges.append(range) }
                }
            default:
                guard !open.isEmpty else { throw error(line: number, "is outside BEGIN:VCALENDAR … END:VCALENDAR", quoting: text) }
                if open.last?.name == "VEVENT", var current = event {
                    try read(property, line: number, text: text, into: &current)
                    event = current
                }
            }
        }
        if let unclosed = open.last {
            throw error(line: unclosed.line, "opens \(unclosed.name), which has no END:\(unclosed.name)")
        }
        return ranges
    }

    /// The component a `BEGIN` or `END` names, upper-cased: a short token, since errors repeat it.
    private func componentName(_ property: Property, line: Int, text: Substring) throws(ConfigurationError) -> String {
        let name = property.value.trimmingWhitespace().uppercased()
        guard (1...32).contains(name.count), name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
            throw error(line: line, "does not name a component such as VEVENT", quoting: text)
        }
        return name
    }

    /// Logical lines: a line that starts with a space or a tab continues the one before, without that character.
    private static func unfolded(_ lines: [Substring]) -> [(line: Int, text: Substring)] {
        var result: [(line: Int, text: Substring)] = []
        for (index, line) in lines.enumerated() {
            if let first = line.first, first == " " || first == "\t", !result.isEmpty {
                result[result.count - 1].text += line.dropFirst()
            } else {
                result.append((index + 1, line))
            }
        }
        return result
    }

    /// Splits `NAME;PARAM=VALUE;PARAM="QUOTED":value`.
    private func contentLine(_ text: Substring, line: Int) throws(ConfigurationError) -> Property {
        func malformed() -> ConfigurationError {
            error(line: line, "is not an iCalendar content line NAME[;PARAMETER=VALUE]:VALUE", quoting: text)
        }
        var index = text.startIndex
        while index < text.endIndex, text[index] != ";", text[index] != ":" { index = text.index(after: index) }
        let name = text[..<index]
        guard index < text.endIndex, !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") })
        else { throw malformed() }
        var parameters: [String: String] = [:]
        while text[index] == ";" {
            index = text.index(after: index)
            let start = index
            var isQuoted = false
            while index < text.endIndex {
                let character = text[index]
                if character == "\"" {
                    isQuoted.toggle()
                } else if !isQuoted, character == ";" || character == ":" {
                    break
                }
                index = text.index(after: index)
            }
            guard index < text.endIndex, let equals = text[start..<index].firstIndex(of: "=") else { throw malformed() }
            var value = text[text.index(after: equals)..<index]
            if value.count >= 2, value.first == "\"", value.last == "\"" { value = value.dropFirst().dropLast() }
            parameters[text[start..<equals].uppercased()] = String(value)
        }
        return Property(name: name.uppercased(), parameters: parameters, value: String(text[text.index(after: index)...]))
    }

    // MARK: Events

    private func read(_ property: Property, line: Int, text: Substring, into event: inout Event) throws(ConfigurationError) {
        switch property.name {
        case "DTSTART":
            guard event.start == nil else { throw error(line: line, "is a second DTSTART in one VEVENT", quoting: text) }
            event.start = Located(value: try time(property, line: line, text: text), line: line, text: text)
        case "DTEND":
            guard event.end == nil else { throw error(line: line, "is a second DTEND in one VEVENT", quoting: text) }
            event.end = Located(value: try time(property, line: line, text: text), line: line, text: text)
        case "DURATION":
            guard event.duration == nil else { throw error(line: line, "is a second DURATION in one VEVENT", quoting: text) }
            event.duration = Located(value: try duration(property.value, line: line, text: text), line: line, text: text)
        case "STATUS":
            event.isCancelled = property.value.trimmingWhitespace().uppercased() == "CANCELLED"
        default:
            break  // SUMMARY, UID, RRULE (not expanded) and the rest.
        }
    }

    /// The dates `event` closes: its start's date to the date of the last second before its end.
    private func range(of event: Event) throws(ConfigurationError) -> ClosedRange<CalendarDate>? {
        guard let start = event.start else { throw error(line: event.line, "opens a VEVENT that has no DTSTART") }
        if let end = event.end, let duration = event.duration {
            throw error(line: duration.line, "is a DURATION in a VEVENT that has a DTEND (line \(end.line))", quoting: duration.text)
        }
        if event.isCancelled { return nil }
        let end: Located<Int>
        if let dtend = event.end {
            end = Located(value: dtend.value.seconds, line: dtend.line, text: dtend.text)
        } else if let duration = event.duration {
            end = Located(value: start.value.seconds + duration.value, line: duration.line, text: duration.text)
        } else {
            // A date closes its day; a time alone is a moment, which closes its date too.
            end = Located(value: start.value.seconds + (start.value.isDate ? Self.secondsPerDay : 0), line: start.line, text: start.text)
        }
        guard end.value >= start.value.seconds else {
            throw error(line: end.line, "ends the VEVENT before its DTSTART (line \(start.line))", quoting: end.text)
        }
        let firstDay = Self.day(of: start.value.seconds)
        let lastDay = end.value > start.value.seconds ? Self.day(of: end.value - 1) : firstDay
        try checkLength(days: lastDay - firstDay + 1, line: end.line, quoting: end.text)
        guard let first = CalendarDate(daysSinceEpoch: firstDay), let last = CalendarDate(daysSinceEpoch: lastDay) else {
            let years = "\(ClosedDays.years.lowerBound) to \(ClosedDays.years.upperBound)"
            throw error(line: start.line, "is outside the years \(years)", quoting: start.text)
        }
        try checkYear(of: first, line: start.line, quoting: start.text)
        try checkYear(of: last, line: end.line, quoting: end.text)
        return first...last
    }

    /// Days since 1970-01-01 of a written time, rounding down before 1970 too.
    private static func day(of seconds: Int) -> Int {
        seconds >= 0 ? seconds / secondsPerDay : -((-seconds - 1) / secondsPerDay) - 1
    }

    // MARK: Values

    /// `20261225` (with or without `VALUE=DATE`), `20261225T090000` or `20261225T090000Z`; a `TZID` is allowed and not used.
    private func time(_ property: Property, line: Int, text: Substring) throws(ConfigurationError) -> WrittenTime {
        let kind = property.parameters["VALUE"]?.uppercased()
        guard kind == nil || kind == "DATE" || kind == "DATE-TIME" else {
            throw error(line: line, "has a VALUE other than DATE or DATE-TIME", quoting: text)
        }
        let bytes = Array(property.value.trimmingWhitespace().utf8)
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= bytes.count else { return nil }
            var result = 0
            for byte in bytes[range] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                result = result * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return result
        }
        let isDate = bytes.count == 8 && kind != "DATE-TIME"
        let isDateTime =
            (bytes.count == 15 || (bytes.count == 16 && bytes[15] == UInt8(ascii: "Z"))) && bytes[8] == UInt8(ascii: "T") && kind != "DATE"
        guard isDate || isDateTime, let year = number(0..<4), let month = number(4..<6), let day = number(6..<8),
            let date = CalendarDate(year: year, month: month, day: day)
        else {
            let expected =
                switch kind {
                case "DATE": "a date YYYYMMDD"
                case "DATE-TIME": "a date-time YYYYMMDDTHHMMSS"
                default: "a date YYYYMMDD or date-time YYYYMMDDTHHMMSS"
                }
            throw error(line: line, "is not \(expected)", quoting: text)
        }
        var seconds = date.daysSinceEpoch * Self.secondsPerDay
        if isDateTime {
            guard let hour = number(9..<11), let minute = number(11..<13), let second = number(13..<15),
                hour < 24, minute < 60, second <= 60
            else { throw error(line: line, "has no time of day HHMMSS (000000 to 235959)", quoting: text) }
            seconds += hour * 3600 + minute * 60 + second
        }
        return WrittenTime(seconds: seconds, isDate: isDate)
    }

    /// A non-negative RFC 5545 duration in seconds: `P1D`, `P2W`, `PT12H`, `P1DT12H`, `+P3D`.
    private func duration(_ value: String, line: Int, text: Substring) throws(ConfigurationError) -> Int {
        func malformed() -> ConfigurationError {
            error(line: line, "is not a duration such as P1D, P2W or PT12H", quoting: text)
        }
        var bytes = Array(value.trimmingWhitespace().utf8)[...]
        if bytes.first == UInt8(ascii: "-") { throw error(line: line, "is a negative duration", quoting: text) }
        if bytes.first == UInt8(ascii: "+") { bytes = bytes.dropFirst() }
        guard bytes.first == UInt8(ascii: "P") else { throw malformed() }
        bytes = bytes.dropFirst()
        var seconds = 0
        var lastUnit = -1  // Each unit once, in the order W D H M S, which also bounds the sum.
        var isTime = false
        while let first = bytes.first {
            if first == UInt8(ascii: "T"), !isTime {
                isTime = true
                bytes = bytes.dropFirst()
                continue
            }
            let digits = bytes.prefix(while: { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) })
            guard (1...9).contains(digits.count), let unit = bytes.dropFirst(digits.count).first else { throw malformed() }
            let amount = digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
            let rank: Int
            let size: Int
            switch (isTime, unit) {
            case (false, UInt8(ascii: "W")): (rank, size) = (0, 7 * Self.secondsPerDay)
            case (false, UInt8(ascii: "D")): (rank, size) = (1, Self.secondsPerDay)
            case (true, UInt8(ascii: "H")): (rank, size) = (2, 3600)
            case (true, UInt8(ascii: "M")): (rank, size) = (3, 60)
            case (true, UInt8(ascii: "S")): (rank, size) = (4, 1)
            default: throw malformed()
            }
            guard rank > lastUnit else { throw malformed() }
            lastUnit = rank
            seconds += amount * size
            bytes = bytes.dropFirst(digits.count + 1)
        }
        guard lastUnit >= 0 else { throw malformed() }
        return seconds
    }
}
