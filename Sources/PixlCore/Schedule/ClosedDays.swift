public import Foundation

/// The local calendar dates on which a lane's archive is closed (bank holidays, maintenance days), whatever its
/// ``QueryWindow`` says.
///
/// The dates are local to the lane: ``isClosed(_:in:)`` takes the date of a moment in the lane's time zone. They are
/// kept as sorted ranges, overlapping or adjacent ones merged, so a lookup is a binary search. Read them from a file
/// with ``parse(_:variable:)`` (a plain list or an iCalendar feed) or through ``CalendarFile``.
public struct ClosedDays: Sendable, Hashable {
    /// Sorted by date; no two overlap or touch (`2026-12-25...2026-12-26` and `2026-12-27...` become one range).
    public let ranges: [ClosedRange<CalendarDate>]

    /// No closed days: the window alone decides.
    public static let none = ClosedDays([])

    // MARK: Initialization

    /// The union of `ranges`, in any order, overlapping or not.
    public init(_ ranges: some Sequence<ClosedRange<CalendarDate>>) {
        var merged: [ClosedRange<CalendarDate>] = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = merged.last, range.lowerBound.daysSinceEpoch <= last.upperBound.daysSinceEpoch + 1 {
                merged[merged.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        self.ranges = merged
    }

    // MARK: Member variables

    public var isEmpty: Bool { ranges.isEmpty }

    /// How many dates are closed, for display (`12 closed days`).
    public var dayCount: Int {
        ranges.reduce(0) { $0 + $1.upperBound.daysSinceEpoch - $1.lowerBound.daysSinceEpoch + 1 }
    }

    // MARK: Methods

    /// Whether the local date of `date` in `timeZone` is closed.
    public func isClosed(_ date: Date, in timeZone: TimeZone) -> Bool {
        guard !ranges.isEmpty, let local = CalendarDate(date, in: timeZone) else { return false }
        return contains(local)
    }

    /// Whether `date` is closed.
    public func contains(_ date: CalendarDate) -> Bool {
        range(containing: date) != nil
    }

    /// The closed range that `date` lies in, or `nil` when `date` is not closed.
    public func range(containing date: CalendarDate) -> ClosedRange<CalendarDate>? {
        guard let range = firstRange(endingOnOrAfter: date), range.lowerBound <= date else { return nil }
        return range
    }

    /// The closed range that contains `date` or, when `date` is not closed, the next one after it; `nil` when no
    /// date from `date` on is closed.
    public func firstRange(endingOnOrAfter date: CalendarDate) -> ClosedRange<CalendarDate>? {
        var low = 0
        var high = ranges.count
        while low < high {
            let middle = (low + high) / 2
            if ranges[middle].upperBound < date { low = middle + 1 } else { high = middle }
        }
        return low < ranges.count ? ranges[low] : nil
    }
}

extension CalendarDate {
    /// The local date of `date` in `timeZone`; `nil` outside years 1 to 9999.
    init?(_ date: Date, in timeZone: TimeZone) {
        let parts = Calendar.gregorian(in: timeZone).dateComponents([.era, .year, .month, .day], from: date)
        guard parts.era == 1, let year = parts.year, let month = parts.month, let day = parts.day else { return nil }
        self.init(year: year, month: month, day: day)
    }

    /// The date `days` days later (earlier when negative); `nil` outside years 1 to 9999.
    func adding(days: Int) -> CalendarDate? {
        CalendarDate(daysSinceEpoch: daysSinceEpoch + days)
    }
}

extension Calendar {
    /// A Gregorian calendar in `timeZone`: local dates, midnights and times of day in that zone.
    static func gregorian(in timeZone: TimeZone) -> Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }
}
