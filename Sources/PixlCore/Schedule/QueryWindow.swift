public import Foundation

/// When a lane may query its archive: the secondary's (a clinical PACS) defaults to out of working hours (SPEC §3 step 5).
///
/// A moment is inside the window when its local day (in ``timeZone``) is a weekday, or any day when
/// ``includesWeekends``, and its local time of day lies within ``hours``. A range that wraps midnight
/// (`20:00-08:00`) covers the evening and the early morning of the same local day. With
/// ``includesWeekends``, Saturday and Sunday are open all day.
public struct QueryWindow: Sendable, Hashable {
    public enum Hours: Sendable, Hashable {
        case always
        case never
        /// Minutes since local midnight: `start` inclusive, `end` exclusive; wraps midnight when `end <= start`.
        case range(start: Int, end: Int)
    }

    public var hours: Hours
    public var includesWeekends: Bool
    public var timeZone: TimeZone

    public init(hours: Hours = .range(start: 20 * 60, end: 8 * 60), includesWeekends: Bool = false, timeZone: TimeZone) {
        self.hours = hours
        self.includesWeekends = includesWeekends
        self.timeZone = timeZone
    }

    /// Parses `PIXL_SECONDARY_QUERY_HOURS`: `always`, `never` or `HH:MM-HH:MM`.
    public static func parseHours(_ text: String) -> Hours? {
        switch text.lowercased() {
        case "always": return .always
        case "never": return .never
        default:
            let ends = text.split(separator: "-")
            guard ends.count == 2, let start = minutes(ends[0]), let end = minutes(ends[1]), start != end else { return nil }
            return .range(start: start, end: end)
        }
    }

    /// The hours as `PIXL_<LANE>_QUERY_HOURS` writes them: `always`, `never` or `HH:MM-HH:MM`.
    public var hoursDescription: String {
        switch hours {
        case .always: "always"
        case .never: "never"
        case .range(let start, let end):
            [start, end].map { minutes in
                let hour = minutes / 60, minute = minutes % 60
                return (hour < 10 ? "0" : "") + "\(hour):" + (minute < 10 ? "0" : "") + "\(minute)"
            }.joined(separator: "-")
        }
    }

    private static func minutes(_ text: Substring) -> Int? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let hour = Int(parts[0]), let minute = Int(parts[1]),
            (0...23).contains(hour), (0...59).contains(minute)
        else { return nil }
        return hour * 60 + minute
    }

    /// Whether the secondary archive may be queried at `date`.
    public func isOpen(at date: Date) -> Bool {
        switch hours {
        case .always: return true
        case .never: return false
        case .range(let start, let end):
            let local = calendar.dateComponents([.weekday, .hour, .minute], from: date)
            let isWeekend = local.weekday == 1 || local.weekday == 7
            if isWeekend { return includesWeekends }
            let minute = (local.hour ?? 0) * 60 + (local.minute ?? 0)
            return start < end ? (start..<end).contains(minute) : (minute >= start || minute < end)
        }
    }

    /// The first moment at or after `date` when the window is open; `nil` when it never opens.
    public func nextOpening(after date: Date) -> Date? {
        if isOpen(at: date) { return date }
        guard case .range(let start, _) = hours else { return nil }
        // The window opens either at a local midnight (weekends, or the early-morning part of a
        // wrapped range) or at `start` on some day: try those in order over the next eight days.
        let today = calendar.startOfDay(for: date)
        var candidates: [Date] = []
        for offset in 0...8 {
            guard let day = calendar.date(byAdding: .day, value: offset, to: today) else { continue }
            candidates.append(day)
            if let opening = calendar.date(bySettingHour: start / 60, minute: start % 60, second: 0, of: day) {
                candidates.append(opening)
            }
        }
        return candidates.filter { $0 > date }.sorted().first(where: isOpen(at:))
    }

    private var calendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }
}
