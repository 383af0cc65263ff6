/// A lane's circuit breaker (issue 13): after `faults` consecutive transient faults of its archive (a C-FIND or C-MOVE
/// failing for network reasons or timing out) it opens, and the lane claims nothing, so waiting jobs spend no attempts
/// on an archive that is down. After a back-off it lets one probe job through (half-open): the archive's next answer
/// closes it, its next fault opens it again for twice as long, up to `maximumBackoff`.
///
/// A value type driven by its owner, which serialises calls and logs each change of ``state``.
public struct CircuitBreaker<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    public typealias Settings = CircuitBreakerSettings

    public enum State: Sendable, Hashable {
        case closed
        case open(until: Instant)
        /// The back-off is over: one probe job may run.
        case halfOpen
    }

    /// What the lane may do now.
    public enum Permission: Sendable, Hashable {
        case claim
        /// Claim one job, the probe; nothing more until the archive answers or faults, or the probe ends.
        case probe
        /// Claim nothing until then (`nil`: until the probe's result).
        case wait(until: Instant?)
    }

    // MARK: Member variables

    public let settings: Settings
    public private(set) var state: State = .closed
    public private(set) var consecutiveFaults = 0
    /// Openings since the archive last answered: each doubles the back-off.
    private var openings = 0
    private var probeRunning = false

    public init(settings: Settings) {
        self.settings = settings
    }

    // MARK: Methods

    /// Whether the lane may claim at `now`; moves an open breaker whose back-off is over to half-open, and hands out
    /// the one probe.
    public mutating func permission(at now: Instant) -> Permission {
        if case .open(let until) = state {
            guard now >= until else { return .wait(until: until) }
            state = .halfOpen
        }
        guard state == .halfOpen else { return .claim }
        guard !probeRunning else { return .wait(until: nil) }
        probeRunning = true
        return .probe
    }

    /// The archive answered (a C-FIND's answers, a C-MOVE's end, even a refusal: it is up): closes the breaker.
    public mutating func recordAnswer() {
        consecutiveFaults = 0
        openings = 0
        probeRunning = false
        state = .closed
    }

    /// The archive failed transiently: opens the breaker after `faults` in a row, or at once when half-open.
    public mutating func recordFault(at now: Instant) {
        consecutiveFaults += 1
        switch state {
        case .closed:
            guard settings.faults > 0, consecutiveFaults >= settings.faults else { return }
        case .halfOpen:
            break
        case .open:
            return
        }
        openings += 1
        probeRunning = false
        let backoff = settings.backoff * (1 << min(openings - 1, 20))
        state = .open(until: now.advanced(by: min(backoff, settings.maximumBackoff)))
    }

    /// The probe job ended without a word from the archive (it needed no query): another job may probe.
    public mutating func probeEnded() {
        probeRunning = false
    }

    /// `closed`, `open` or `half_open`, for the API, metrics and logs.
    public var stateName: String {
        switch state {
        case .closed: "closed"
        case .open: "open"
        case .halfOpen: "half_open"
        }
    }
}
