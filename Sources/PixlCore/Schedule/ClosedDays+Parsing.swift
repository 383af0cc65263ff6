extension ClosedDays {
    /// The largest calendar text read: 1 MiB (``CalendarFile`` reads no more of a file than that).
    public static let maximumTextSize = 1 << 20
    /// The most dates or ranges (list lines, iCalendar events) one text may hold.
    public static let maximumEntries = 10_000
    /// The longest one range or event may be, in days.
    public static let maximumRangeDays = 366
    /// The years a closed date may lie in.
    public static let years = 1900...2199

    /// Reads closed days from a plain list or, when its first non-blank line is `BEGIN:VCALENDAR`, an iCalendar
    /// (RFC 5545) text.
    ///
    /// A plain list has one date or inclusive range a line; blank lines and `#` comments (whole line or trailing)
    /// are ignored:
    /// ```
    /// # England and Wales bank holidays, and the PACS upgrade
    /// 2026-12-25
    /// 2026-12-28          # Boxing Day (substitute day)
    /// 2027-03-01..2027-03-03
    /// 2027-04-10/2027-04-11
    /// ```
    /// From an iCalendar text, each `VEVENT` closes the dates from its `DTSTART` to its `DTEND` (exclusive for a
    /// date, `DTEND;VALUE=DATE:20261226` ends a Christmas Day event), or for its `DURATION`, or one day when it has
    /// neither. An event with times closes every date it touches, its dates read as written: a `TZID` or a trailing `Z`
    /// is not converted to the lane's zone, and an end at exactly midnight does not close that day. Events with
    /// `STATUS:CANCELLED` and other components (`VTODO`, `VTIMEZONE`, a `VALARM` in an event) are skipped.
    ///
    /// > Warning: Recurring events are not expanded: an `RRULE`, `RDATE` or `EXDATE` is ignored and only the first
    /// > occurrence closes. Feeds of holidays, such as gov.uk's bank-holiday calendars, list each date as its own event.
    ///
    /// - Parameters:
    ///   - text: The file's contents; empty (or a calendar without events) means no closed days.
    ///   - variable: The environment variable that named the file, for the errors.
    /// - Returns: The closed days, merged into sorted ranges.
    /// - Throws: ``ConfigurationError`` naming `variable` and the line: a malformed line or date, a range that ends
    ///   before it starts or is longer than ``maximumRangeDays``, a year outside ``years``, more than
    ///   ``maximumEntries`` entries, or a text larger than ``maximumTextSize``. At most the first 40 characters of the
    ///   line are quoted.
    public static func parse(_ text: String, variable: String) throws(ConfigurationError) -> ClosedDays {
        guard text.utf8.count <= maximumTextSize else {
            throw ConfigurationError(variable: variable, problem: "is larger than \(maximumTextSize / 1024 / 1024) MiB")
        }
        var parser = ClosedDaysParser(variable: variable)
        let lines = ClosedDaysParser.lines(of: text)
        let isICalendar = lines.first(where: { !$0.allSatisfy(\.isWhitespace) }).map {
            String($0).trimmingWhitespace().uppercased() == "BEGIN:VCALENDAR"
        }
        if isICalendar == true {
            return ClosedDays(try parser.iCalendar(lines))
        }
        return ClosedDays(try parser.plainList(lines))
    }
}

/// The state of one ``ClosedDays/parse(_:variable:)``: what counts against the limits, and how errors read.
struct ClosedDaysParser {
    let variable: String
    private(set) var entries = 0

    init(variable: String) {
        self.variable = variable
    }

    /// The text's lines, numbered from 1 by index + 1: split at LF only, a CR before it dropped, a leading BOM dropped.
    static func lines(of text: String) -> [Substring] {
        var text = Substring(text)
        if text.first == "\u{FEFF}" { text = text.dropFirst() }
        return text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { bytes in
            bytes.last == UInt8(ascii: "\r") ? Substring(bytes.dropLast()) : Substring(bytes)
        }
    }

    // MARK: Plain list

    /// `YYYY-MM-DD`, `YYYY-MM-DD..YYYY-MM-DD` or `YYYY-MM-DD/YYYY-MM-DD` a line.
    mutating func plainList(_ lines: [Substring]) throws(ConfigurationError) -> [ClosedRange<CalendarDate>] {
        var ranges: [ClosedRange<CalendarDate>] = []
        for (index, line) in lines.enumerated() {
            let number = index + 1
            let entry = String(line.prefix(while: { $0 != "#" })).trimmingWhitespace()
            if entry.isEmpty { continue }
            try count(line: number)
            let ends: [String]
            if let dots = entry.firstRange(of: "..") {
                ends = [String(entry[..<dots.lowerBound]), String(entry[dots.upperBound...])]
            } else {
                ends = entry.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            }
            let dates = ends.map { CalendarDate(iso: $0.trimmingWhitespace()) }
            guard (1...2).contains(dates.count), let first = dates[0], let last = dates[dates.count - 1] else {
                throw error(line: number, "is not a date YYYY-MM-DD or a range YYYY-MM-DD..YYYY-MM-DD", quoting: line)
            }
            ranges.append(try range(first, last, line: number, quoting: line))
        }
        return ranges
    }

    // MARK: Shared checks

    /// Counts one more entry against ``ClosedDays/maximumEntries``.
    mutating func count(line: Int) throws(ConfigurationError) {
        entries += 1
        guard entries <= ClosedDays.maximumEntries else {
            throw error(line: line, "is past the limit of \(ClosedDays.maximumEntries) entries (dates, ranges or events)")
        }
    }

    /// `first...last`, checked against the year bounds and the longest range.
    func range(_ first: CalendarDate, _ last: CalendarDate, line: Int, quoting text: Substring) throws(ConfigurationError)
        -> ClosedRange<CalendarDate>
    {
        try checkYear(of: first, line: line, quoting: text)
        try checkYear(of: last, line: line, quoting: text)
        guard first <= last else { throw error(line: line, "ends (\(last)) before it starts (\(first))", quoting: text) }
        try checkLength(days: last.daysSinceEpoch - first.daysSinceEpoch + 1, line: line, quoting: text)
        return first...last
    }

    func checkYear(of date: CalendarDate, line: Int, quoting text: Substring) throws(ConfigurationError) {
        guard ClosedDays.years.contains(date.year) else {
            throw error(
                line: line,
                "has \(date), outside the years \(ClosedDays.years.lowerBound) to \(ClosedDays.years.upperBound)",
                quoting: text
            )
        }
    }

    func checkLength(days: Int, line: Int, quoting text: Substring) throws(ConfigurationError) {
        guard days <= ClosedDays.maximumRangeDays else {
            throw error(line: line, "closes \(days) days, more than \(ClosedDays.maximumRangeDays)", quoting: text)
        }
    }

    /// `VARIABLE line N: 'the line' problem`, the line cut to its first 40 characters and control characters shown as
    /// `?`; without `text`, `VARIABLE line N problem`.
    func error(line: Int, _ problem: String, quoting text: Substring? = nil) -> ConfigurationError {
        guard let text else { return ConfigurationError(variable: variable, problem: "line \(line) \(problem)") }
        let trimmed = String(text).trimmingWhitespace()
        let shown = trimmed.prefix(40).map { character in
            character.unicodeScalars.contains { $0.properties.generalCategory == .control } ? "?" : String(character)
        }
        let quote = shown.joined() + (trimmed.count > 40 ? "…" : "")
        return ConfigurationError(variable: variable, problem: "line \(line): '\(quote)' \(problem)")
    }
}
