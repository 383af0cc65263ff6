public import Foundation

extension Job {
    /// The job after `outcome`: its state, reason, archive, studies and next attempt time (for a retry,
    /// `retryAt`, as the worker pool decided it, or `now`).
    public func applying(_ outcome: PipelineOutcome, now: Date, retryAt: Date? = nil) -> Job {
        var job = self
        job.state = outcome.state
        job.reason = outcome.reason
        if let archive = outcome.archive { job.archive = archive }
        job.studies = outcome.succeededStudyIDs.isEmpty ? job.studies : outcome.succeededStudyIDs
        job.updatedAt = now
        switch outcome {
        case .deferred(let until, _): job.nextAttemptAt = until
        case .retry: job.nextAttemptAt = retryAt ?? now
        default: job.nextAttemptAt = nil
        }
        return job
    }
}

extension Duration {
    /// The duration in seconds, as a `TimeInterval`.
    public var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
