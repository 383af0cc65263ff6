/// When the cohort extract was generated: a wall-clock date and time, optionally with its UTC offset.
///
/// PIXL sends naive and aware date-times and, from pandas, nanoseconds; this keeps all of it so the
/// value prints back exactly as Python's `isoformat()` does.
public struct ExtractTimestamp: Sendable, Hashable, CustomStringConvertible {
    public var date: CalendarDate
    public var hour: Int
    public var minute: Int
    public var second: Int
    /// 0 ..< 1_000_000_000.
    public var nanosecond: Int
    /// Offset from UTC in seconds; `nil` for a naive date-time.
    public var utcOffsetSeconds: Int?

    public init?(date: CalendarDate, hour: Int = 0, minute: Int = 0, second: Int = 0, nanosecond: Int = 0, utcOffsetSeconds: Int? = nil) {
        guard (0..<24).contains(hour), (0..<60).contains(minute), (0..<60).contains(second),
            (0..<1_000_000_000).contains(nanosecond)
        else { return nil }
        if let offset = utcOffsetSeconds, !(-86_399...86_399).contains(offset) { return nil }
        self.date = date
        self.hour = hour
        self.minute = minute
        self.second = second
        self.nanosecond = nanosecond
        self.utcOffsetSeconds = utcOffsetSeconds
    }

    /// Parses ISO 8601 `YYYY-MM-DD[THH:MM[:SS[.fraction]]][Z|±HH:MM[:SS]]` (a date alone means midnight, naive).
    public init?(iso string: String) {
        let text = Substring(string)
        guard text.count >= 10, let date = CalendarDate(iso: text.prefix(10)) else { return nil }
        var rest = text.dropFirst(10)
        if rest.isEmpty {
            self.init(date: date)
            return
        }
        guard let separator = rest.first, separator == "T" || separator == " " else { return nil }
        rest = rest.dropFirst()
        var offset: Int?
        if rest.hasSuffix("Z") {
            offset = 0
            rest = rest.dropLast()
        } else if let signIndex = rest.lastIndex(where: { $0 == "+" || $0 == "-" }) {
            guard let parsed = Self.parseOffset(rest[signIndex...]) else { return nil }
            offset = parsed
            rest = rest[..<signIndex]
        }
        var fraction = Substring("")
        if let dot = rest.firstIndex(of: ".") {
            fraction = rest[rest.index(after: dot)...]
            rest = rest[..<dot]
            guard (1...9).contains(fraction.count), fraction.allSatisfy(\.isASCIIDigit) else { return nil }
        }
        let clock = rest.split(separator: ":", omittingEmptySubsequences: false)
        guard (2...3).contains(clock.count), clock.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isASCIIDigit) }),
            let hour = Int(clock[0]), let minute = Int(clock[1])
        else { return nil }
        let second = clock.count == 3 ? Int(clock[2]) ?? 0 : 0
        let nanosecond = Int(fraction.padding(toLength: 9)) ?? 0
        self.init(date: date, hour: hour, minute: minute, second: second, nanosecond: nanosecond, utcOffsetSeconds: offset)
    }

    private static func parseOffset(_ text: Substring) -> Int? {
        let sign = text.first == "-" ? -1 : 1
        let parts = text.dropFirst().split(separator: ":", omittingEmptySubsequences: false)
        guard (2...3).contains(parts.count), parts.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isASCIIDigit) }),
            let hours = Int(parts[0]), let minutes = Int(parts[1]), hours < 24, minutes < 60
        else { return nil }
        let seconds = parts.count == 3 ? Int(parts[2]) ?? 0 : 0
        return sign * (hours * 3600 + minutes * 60 + seconds)
    }

    /// Python's `isoformat()`: fraction only when non-zero (6 digits, or 9 when below a microsecond), offset when aware.
    public var description: String {
        var text = "\(date)T\(CalendarDate.pad(hour, 2)):\(CalendarDate.pad(minute, 2)):\(CalendarDate.pad(second, 2))"
        if nanosecond != 0 {
            text += nanosecond % 1000 == 0 ? "." + CalendarDate.pad(nanosecond / 1000, 6) : "." + CalendarDate.pad(nanosecond, 9)
        }
        if let offset = utcOffsetSeconds {
            let magnitude = abs(offset)
            text += (offset < 0 ? "-" : "+") + CalendarDate.pad(magnitude / 3600, 2) + ":" + CalendarDate.pad(magnitude / 60 % 60, 2)
            if magnitude % 60 != 0 { text += ":" + CalendarDate.pad(magnitude % 60, 2) }
        }
        return text
    }
}

extension Substring {
    fileprivate func padding(toLength length: Int) -> String {
        String(self) + String(repeating: "0", count: Swift.max(0, length - count))
    }
}
