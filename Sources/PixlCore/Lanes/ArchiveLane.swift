public import Foundation
public import Logging
import Synchronization

/// One lane at run time (issue 13): its token bucket, the jobs it has in flight, its timetable, circuit breaker,
/// adaptive rate and fair share. The worker pool claims through it; the API reads and sets it (`/lanes`).
///
/// The configured rate is the ceiling: the bucket goes at it, or at the adaptive rate below it. Pausing keeps the rate
/// and stops claims; PIXL's rate 0 pauses the bucket itself.
public final class ArchiveLane<C: Clock<Duration>>: Sendable {
    private struct State: Sendable {
        var breaker: CircuitBreaker<C.Instant>
        var adaptive: AdaptiveRate<C.Instant>?
        var configuredRate: Double
        var paused = false
        var fairShare: FairShare

        var rate: Double { adaptive?.rate ?? configuredRate }
    }

    // MARK: Member variables

    public let lane: Lane
    /// The archive's modality in orthanc-raw; `nil` when no such archive is configured (the lane stays idle).
    public let modality: String?
    public let settings: LaneSettings
    /// The tokens the lane's claims take (SPEC §3 step 2, per lane).
    public let bucket: TokenBucket<C>
    let clock: C
    private let logger: Logger
    private let state: Mutex<State>
    private let running = Atomic<Int>(0)
    /// Called when the lane may claim again sooner than its waiters think: resumed, rate set, breaker half-open or closed.
    private let onChange: @Sendable () -> Void
    /// Called on each change of the breaker's state, with its new name (metrics count them).
    private let onBreakerChange: @Sendable (String) -> Void

    // MARK: Initialization

    public init(
        _ lane: Lane,
        modality: String?,
        settings: LaneSettings,
        weights: ProjectWeights,
        clock: C,
        logger: Logger,
        onChange: @escaping @Sendable () -> Void = {},
        onBreakerChange: @escaping @Sendable (String) -> Void = { _ in }
    ) throws(InvalidRateError) {
        self.lane = lane
        self.modality = modality
        self.settings = settings
        self.clock = clock
        self.bucket = try TokenBucket(rate: settings.rate, clock: clock)
        var logger = logger
        logger[metadataKey: LogKey.lane] = "\(lane.rawValue)"
        self.logger = logger
        self.onChange = onChange
        self.onBreakerChange = onBreakerChange
        state = Mutex(
            State(
                breaker: CircuitBreaker(settings: settings.breaker),
                adaptive: settings.adaptive.map { AdaptiveRate(settings: $0, ceiling: settings.rate) },
                configuredRate: settings.rate,
                fairShare: FairShare(weights: weights)
            )
        )
    }

    // MARK: Claims

    /// Jobs of this lane being processed now.
    public var inFlight: Int { running.load(ordering: .relaxed) }

    public var hasFreeSlot: Bool { inFlight < settings.maxInFlight }

    public var isPaused: Bool { state.withLock(\.paused) }

    /// Whether the breaker lets the lane claim now (and hands out its probe), logging a move to half-open.
    public func breakerPermission() -> CircuitBreaker<C.Instant>.Permission {
        let now = clock.now
        return withBreaker { $0.permission(at: now) }
    }

    /// The projects in the order of their turns, from those with unfinished jobs in this lane.
    public func projectOrder(among projects: Set<String>) -> [String] {
        state.withLock { $0.fairShare.order(of: projects) }
    }

    /// A job was claimed: counts it in flight and gives its project's turn to the next.
    public func claimed(_ job: Job, from order: [String]) {
        running.add(1, ordering: .relaxed)
        state.withLock { $0.fairShare.claimed(job.message.projectName, from: order) }
    }

    /// A claimed job is done with (recorded, released or lost). `wasProbe`: it was the breaker's probe.
    public func finished(wasProbe: Bool) {
        running.subtract(1, ordering: .relaxed)
        if wasProbe { withBreaker { $0.probeEnded() } }
    }

    /// The probe the breaker handed out was not used (no job was due): another claim may probe.
    public func probeUnused() {
        withBreaker { $0.probeEnded() }
    }

    // MARK: The archive's answers

    public func archiveAnswered(_ operation: ArchiveOperation, after latency: Duration) async {
        let now = clock.now
        withBreaker { $0.recordAnswer() }
        await adapt { $0?.observe(operation, latency: latency, at: now) ?? false }
    }

    public func archiveFaulted(_ operation: ArchiveOperation, after latency: Duration) async {
        let now = clock.now
        withBreaker { $0.recordFault(at: now) }
        await adapt { $0?.observe(operation, latency: nil, at: now) ?? false }
    }

    // MARK: Settings

    /// Sets the configured rate (the adaptive rate starts again from it); 0 pauses the bucket, as PIXL.
    /// - Throws: ``InvalidRateError`` when the rate is negative or not finite (nothing changes).
    public func setRate(_ rate: Double) async throws(InvalidRateError) {
        guard TokenBucket<C>.isValid(rate: rate) else { throw InvalidRateError(rate: rate) }
        let effective = state.withLock { state in
            state.configuredRate = rate
            state.adaptive?.setCeiling(rate)
            return state.rate
        }
        try await bucket.setRate(effective)
        logger.notice("lane rate set to \(rate) per second")
        onChange()
    }

    /// Stops or resumes the lane's claims, keeping its rate.
    public func setPaused(_ paused: Bool) {
        let changed = state.withLock { state in
            defer { state.paused = paused }
            return state.paused != paused
        }
        guard changed else { return }
        logger.notice(paused ? "lane paused" : "lane resumed")
        onChange()
    }

    /// What the lane is doing now, for `/lanes`, `/status` and `/metrics`.
    public func snapshot(at date: Date = Date()) -> LaneSnapshot {
        let now = clock.now
        let (breaker, faults, configuredRate, rate, paused) = state.withLock {
            ($0.breaker.state, $0.breaker.consecutiveFaults, $0.configuredRate, $0.rate, $0.paused)
        }
        var openUntil: Date?
        var breakerName = "closed"
        switch breaker {
        case .closed: break
        case .open(let until):
            breakerName = "open"
            openUntil = date.addingTimeInterval(now.duration(to: until).seconds)
        case .halfOpen: breakerName = "half_open"
        }
        let schedule = settings.timetable.schedule
        return LaneSnapshot(
            lane: lane, rate: rate, configuredRate: configuredRate, adaptive: settings.adaptive != nil, paused: paused,
            inFlight: inFlight, maxInFlight: settings.maxInFlight, isOpen: schedule.isOpen(at: date),
            nextChange: schedule.nextChange(after: date), breaker: breakerName, breakerOpenUntil: openUntil,
            consecutiveFaults: faults
        )
    }

    // MARK: Private

    /// Applies `change` to the breaker and logs one line if its state changed.
    @discardableResult
    private func withBreaker<T>(_ change: (inout CircuitBreaker<C.Instant>) -> T) -> T {
        let (result, before, after, faults) = state.withLock { state in
            let before = state.breaker.stateName
            let result = change(&state.breaker)
            return (result, before, state.breaker.stateName, state.breaker.consecutiveFaults)
        }
        if before != after {
            switch after {
            case "open": logger.warning("circuit breaker open after \(faults) consecutive faults of the archive: the lane claims nothing until a probe")
            case "half_open": logger.notice("circuit breaker half-open: one probe job may run")
            default: logger.notice("circuit breaker closed: the archive answers again")
            }
            onBreakerChange(after)
            if after != "open" { onChange() }
        }
        return result
    }

    /// Applies `change` to the adaptive rate; when the rate changed, sets the bucket to it and logs it.
    private func adapt(_ change: (inout AdaptiveRate<C.Instant>?) -> Bool) async {
        let changed: (from: Double, to: Double)? = state.withLock { state in
            let before = state.rate
            guard change(&state.adaptive) else { return nil }
            return (before, state.rate)
        }
        guard let changed else { return }
        try? await bucket.setRate(changed.to)
        if changed.to < changed.from {
            logger.notice("adaptive rate lowered from \(changed.from) to \(changed.to) per second: the archive is slow or failing")
        } else {
            logger.debug("adaptive rate raised to \(changed.to) per second")
            onChange()
        }
    }
}

/// A lane as it is at one moment.
public struct LaneSnapshot: Sendable, Hashable {
    public var lane: Lane
    /// The rate claims go at now (the adaptive rate, or the configured one).
    public var rate: Double
    public var configuredRate: Double
    public var adaptive: Bool
    public var paused: Bool
    public var inFlight: Int
    public var maxInFlight: Int
    /// Whether its window is open and the day is not closed.
    public var isOpen: Bool
    /// When ``isOpen`` next changes; `nil` when it never does.
    public var nextChange: Date?
    /// `closed`, `open` or `half_open`.
    public var breaker: String
    public var breakerOpenUntil: Date?
    public var consecutiveFaults: Int
}
