/// A lane's adaptive rate (issue 13, opt-in with `PIXL_<LANE>_ADAPTIVE=true`): additive increase, multiplicative
/// decrease on the archive's latency. Each C-FIND or C-MOVE that answers within its target adds a twentieth of the
/// ceiling to the rate; one slower than its target, or a fault, halves it, at most once per `cooldown` (the answers of
/// jobs started before a halving would otherwise halve it again). The rate never exceeds ``ceiling``, the lane's
/// configured rate, nor falls below a sixty-fourth of it.
public struct AdaptiveRate<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    public typealias Settings = AdaptiveRateSettings

    public let settings: Settings
    /// The configured rate: the most the lane may go at.
    public private(set) var ceiling: Double
    /// The rate the lane goes at now.
    public private(set) var rate: Double
    private var lastDecrease: Instant?

    public init(settings: Settings, ceiling: Double) {
        self.settings = settings
        self.ceiling = ceiling
        self.rate = ceiling
    }

    /// A new configured rate: the lane starts again from it.
    public mutating func setCeiling(_ newCeiling: Double) {
        ceiling = newCeiling
        rate = newCeiling
        lastDecrease = nil
    }

    /// Takes in one answer (`latency`) or fault (`nil`) of the archive at `now`; returns whether ``rate`` changed.
    @discardableResult
    public mutating func observe(_ operation: ArchiveOperation, latency: Duration?, at now: Instant) -> Bool {
        let before = rate
        let target = operation == .find ? settings.findTarget : settings.moveTarget
        if let latency, latency <= target {
            rate = min(ceiling, rate + ceiling / 20)
        } else if lastDecrease.map({ $0.duration(to: now) >= settings.cooldown }) ?? true {
            rate = max(rate / 2, ceiling / 64)
            lastDecrease = now
        }
        return rate != before
    }
}
