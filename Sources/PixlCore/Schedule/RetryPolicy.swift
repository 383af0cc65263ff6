public import Foundation

/// When a job that met a transient fault runs again, and when it stops trying (SPEC §3, Outcomes): exponential
/// back-off with full jitter, up to `PIXL_MAX_ATTEMPTS`. The worker pool decides through it (and `process`, for its one attempt).
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

    /// What to record after attempt number `attempts` came to `outcome`: a retry is due after ``delay(afterAttempt:jitter:)``,
    /// or, past the attempt budget, the job fails with the last reason and counts. Other outcomes are recorded as they are.
    public func result(for outcome: PipelineOutcome, afterAttempt attempts: Int, now: Date) -> JobResult {
        guard case .retry(let reason, let studies) = outcome else { return JobResult(outcome) }
        guard attempts < maxAttempts else {
            return JobResult(.failed(error: "gave up after \(attempts) attempts: \(reason)", studies: studies))
        }
        return JobResult(outcome, retryAt: now.addingTimeInterval(delay(afterAttempt: attempts).seconds))
    }

    /// The wait before attempt `attempt + 1`: `initialDelay · 2^(attempt-1)`, capped, then scaled by a
    /// random factor in [0.5, 1] so that jobs failing together do not come back together.
    public func delay(afterAttempt attempt: Int, jitter: Double = Double.random(in: 0.5...1)) -> Duration {
        let exponent = min(max(attempt - 1, 0), 30)
        let base = min(initialDelay * (1 << exponent), maximumDelay)
        return base * jitter
    }
}
