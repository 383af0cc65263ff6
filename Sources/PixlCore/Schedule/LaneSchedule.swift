public import Foundation

/// When a lane may query its archive: inside its ``QueryWindow`` and not on one of its ``ClosedDays``, both read in
/// the window's time zone.
///
/// ```swift
/// let schedule = LaneSchedule(window: QueryWindow(timeZone: london), closedDays: calendar.closedDays)
/// if !schedule.isOpen(at: now), let opening = schedule.nextOpening(after: now) { /* closed until opening */ }
/// ```
///
/// The open state can change only at a local midnight (a closed date, a weekend), at the window's start or end on
/// a local day, or at a daylight-saving transition. ``nextChange(after:)`` tries those moments in order, computed with
/// a Gregorian calendar in the zone (so a day is 23 or 25 hours when the clocks change), and steps over a closed range
/// in one go.
public struct LaneSchedule: Sendable, Hashable {
    public var window: QueryWindow
    public var closedDays: ClosedDays

    /// How far ahead ``nextOpening(after:)`` and ``nextChange(after:)`` look, in local days.
    public static let horizonInDays = 400

    // MARK: Initialization

    public init(window: QueryWindow, closedDays: ClosedDays = .none) {
        self.window = window
        self.closedDays = closedDays
    }

    // MARK: Member variables

    /// The window's zone, which the closed dates are local to.
    public var timeZone: TimeZone { window.timeZone }

    // MARK: Methods

    /// Whether the lane may query at `date`: the window is open and the local date is not closed.
    public func isOpen(at date: Date) -> Bool {
        window.isOpen(at: date) && !closedDays.isClosed(date, in: timeZone)
    }

    /// The first moment at or after `date` when the lane is open.
    /// - Returns: `date` itself when open; `nil` when the window is ``QueryWindow/Hours/never`` or nothing opens within
    ///   ``horizonInDays`` days.
    public func nextOpening(after date: Date) -> Date? {
        isOpen(at: date) ? date : nextChange(after: date)
    }

    /// The first moment after `date` at which ``isOpen(at:)`` differs from its value at `date`: when an open lane
    /// closes or a closed one opens (for "open until …" or "closed until …").
    /// - Returns: `nil` when the state does not change within ``horizonInDays`` days, as for an
    ///   ``QueryWindow/Hours/always`` window without closed days ahead, or a ``QueryWindow/Hours/never`` one.
    public func nextChange(after date: Date) -> Date? {
        if case .never = window.hours { return nil }
        let calendar = Calendar.gregorian(in: timeZone)
        guard let today = CalendarDate(date, in: timeZone), let lastDay = today.adding(days: Self.horizonInDays) else { return nil }
        let isOpenNow = isOpen(at: date)
        var day = today
        while day <= lastDay {
            if let closed = closedDays.range(containing: day) {
                // A closed day after today closes an open lane at its start; a closed lane stays closed through the range.
                if isOpenNow { return midnight(of: day, calendar) }
                guard let next = closed.upperBound.adding(days: 1) else { return nil }
                day = next
                continue
            }
            if case .always = window.hours {
                // Only closed days change an always-open window: jump to the next closed range, or to the day after this one.
                if isOpenNow {
                    guard let next = closedDays.firstRange(endingOnOrAfter: day), next.lowerBound <= lastDay else { return nil }
                    return midnight(of: next.lowerBound, calendar)
                }
                if let opening = midnight(of: day, calendar), opening > date { return opening }
            } else if let change = moments(on: day, calendar).first(where: { $0 > date && isOpen(at: $0) != isOpenNow }) {
                return change
            }
            guard let next = day.adding(days: 1) else { return nil }
            day = next
        }
        return nil
    }

    // MARK: Candidate moments

    /// The local midnight that starts `day` (or the first moment of `day` when a clock change skips midnight).
    private func midnight(of day: CalendarDate, _ calendar: Calendar) -> Date? {
        calendar.date(from: DateComponents(year: day.year, month: day.month, day: day.day, hour: 12)).map(calendar.startOfDay(for:))
    }

    /// The moments of local `day`, in order, at which the window may open or close: its midnight, each clock change,
    /// and each moment whose wall-clock time is the window's start or end (none on the day the clocks skip it, two on
    /// the day they repeat it).
    private func moments(on day: CalendarDate, _ calendar: Calendar) -> [Date] {
        guard let start = midnight(of: day, calendar), let nextDay = day.adding(days: 1), let end = midnight(of: nextDay, calendar)
        else { return [] }
        // Stretches of the day with one UTC offset, where the wall clock runs with real time.
        var breaks = [start]
        while let transition = timeZone.nextDaylightSavingTimeTransition(after: breaks[breaks.count - 1]), transition < end {
            breaks.append(transition)
        }
        var moments = breaks
        if case .range(let opening, let closing) = window.hours {
            for (index, stretchStart) in breaks.enumerated() {
                let stretchEnd = index + 1 < breaks.count ? breaks[index + 1] : end
                let parts = calendar.dateComponents([.hour, .minute, .second], from: stretchStart)
                let wallClock = Double((parts.hour ?? 0) * 3600 + (parts.minute ?? 0) * 60 + (parts.second ?? 0))
                for minute in [opening, closing] where Double(minute * 60) >= wallClock {
                    let moment = stretchStart.addingTimeInterval(Double(minute * 60) - wallClock)
                    if moment < stretchEnd { moments.append(moment) }
                }
            }
        }
        return moments.sorted()
    }
}
