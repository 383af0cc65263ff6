public import Foundation

/// How one lane treats its archive (issue 13), read from `PIXL_PRIMARY_…` and `PIXL_SECONDARY_…` variables.
public struct LaneSettings: Sendable {
    /// Claims per second at start (`PIXL_<LANE>_RATE`, default `PIXL_IMAGING_API_RATE`); 0 starts paused.
    public var rate: Double
    /// Jobs of this lane processed at once (`PIXL_<LANE>_MAX_IN_FLIGHT`, default `PIXL_MAX_MESSAGES_IN_FLIGHT`).
    public var maxInFlight: Int
    /// When the lane may query its archive: its window (`PIXL_<LANE>_QUERY_HOURS`, `_WEEKENDS`) and its closed days
    /// (`PIXL_<LANE>_CALENDAR`).
    public var timetable: LaneTimetable
    public var breaker: CircuitBreakerSettings
    /// `nil` unless `PIXL_<LANE>_ADAPTIVE=true`.
    public var adaptive: AdaptiveRateSettings?

    public init(
        rate: Double,
        maxInFlight: Int,
        timetable: LaneTimetable,
        breaker: CircuitBreakerSettings = .init(),
        adaptive: AdaptiveRateSettings? = nil
    ) {
        self.rate = rate
        self.maxInFlight = maxInFlight
        self.timetable = timetable
        self.breaker = breaker
        self.adaptive = adaptive
    }
}

/// A lane's circuit breaker (``CircuitBreaker``): `PIXL_<LANE>_BREAKER_FAULTS` (5; 0 never opens),
/// `PIXL_<LANE>_BREAKER_BACKOFF` (30 s, doubling up to 10 minutes).
public struct CircuitBreakerSettings: Sendable, Hashable {
    /// Consecutive faults that open the breaker; 0 never opens it.
    public var faults: Int
    /// How long it stays open the first time.
    public var backoff: Duration
    /// The longest it stays open, however often the probe fails.
    public var maximumBackoff: Duration

    public init(faults: Int = 5, backoff: Duration = .seconds(30), maximumBackoff: Duration = .seconds(600)) {
        self.faults = faults
        self.backoff = backoff
        self.maximumBackoff = max(maximumBackoff, backoff)
    }
}

/// A lane's adaptive rate (``AdaptiveRate``): `PIXL_<LANE>_FIND_TARGET` (2 s), `PIXL_<LANE>_MOVE_TARGET` (60 s).
public struct AdaptiveRateSettings: Sendable, Hashable {
    /// The longest a C-FIND may take while the rate rises.
    public var findTarget: Duration
    /// The longest a C-MOVE (from its start to its end in orthanc-raw) may take while the rate rises.
    public var moveTarget: Duration

    public init(findTarget: Duration = .seconds(2), moveTarget: Duration = .seconds(60)) {
        self.findTarget = findTarget
        self.moveTarget = moveTarget
    }

    /// How long after a halving slow answers are not counted again: one C-FIND target.
    var cooldown: Duration { findTarget }
}

/// A lane's window and the calendar file of its closed days, as they stand now: the file is re-read when it changes
/// (``CalendarFile``), so ``schedule`` is the schedule of this moment.
public struct LaneTimetable: Sendable {
    public var window: QueryWindow
    /// `nil` when the lane has no calendar.
    public var calendar: CalendarFile?

    public init(window: QueryWindow, calendar: CalendarFile? = nil) {
        self.window = window
        self.calendar = calendar
    }

    public var schedule: LaneSchedule {
        LaneSchedule(window: window, closedDays: calendar?.closedDays ?? .none)
    }

    /// Where a job that needs this lane goes at `now`: into it, deferred to its next opening, or nowhere (never open).
    public func entry(at now: Date) -> LaneEntry {
        let schedule = schedule
        if schedule.isOpen(at: now) { return .open }
        guard let opening = schedule.nextOpening(after: now) else { return .neverOpen }
        return .closedUntil(opening)
    }
}

/// Whether a lane takes a job now (``LaneTimetable/entry(at:)``).
public enum LaneEntry: Sendable, Hashable {
    case open
    case closedUntil(Date)
    case neverOpen
}
