/// Exponential back-off with full jitter for transient faults (SPEC §3, Outcomes).
public struct RetryPolicy: Sendable, Hashable {
    public var initialDelay: Duration
    public var maximumDelay: Duration
    /// Attempts before a job that keeps meeting transient faults ends failed (PIXL_MAX_ATTEMPTS).
    public var maxAttempts: Int

    public init(initialDelay: Duration = .seconds(2), maximumDelay: Duration = .seconds(600), maxAttempts: Int = 10) {
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
        self.maxAttempts = maxAttempts
    }

    /// The wait before attempt `attempt + 1`: `initialDelay · 2^(attempt-1)`, capped, then scaled by a
    /// random factor in [0.5, 1] so that jobs failing together do not come back together.
    public func delay(afterAttempt attempt: Int, jitter: Double = Double.random(in: 0.5...1)) -> Duration {
        let exponent = min(max(attempt - 1, 0), 30)
        let base = min(initialDelay * (1 << exponent), maximumDelay)
        return base * jitter
    }

    /// Whether another attempt is allowed after `attempt` attempts.
    public func allowsRetry(afterAttempt attempt: Int) -> Bool {
        attempt < maxAttempts
    }
}
