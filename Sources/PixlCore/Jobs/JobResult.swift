public import Foundation

/// What a worker writes to the store when it is done with a job for now: the job's next state and what
/// changes with it. ``init(_:retryAt:)`` holds the one rule mapping an outcome to a job's fields;
/// ``Job/applying(_:now:)`` and the SQL stores apply it as given.
public struct JobResult: Sendable, Hashable {
    public var state: JobState
    /// Why the job is in its state; free of patient identifiers.
    public var reason: String?
    /// Where the study was found; `nil` keeps what the job had.
    public var archive: Archive?
    /// What the job holds of each study; `nil` keeps what the job had.
    public var studies: [StudyRecord]?
    /// When a retried or deferred job is next due; `nil` for a final state.
    public var nextAttemptAt: Date?
    /// The lane the job moves to; `nil` keeps its lane.
    public var lane: Lane?

    public init(
        state: JobState,
        reason: String? = nil,
        archive: Archive? = nil,
        studies: [StudyRecord]? = nil,
        nextAttemptAt: Date? = nil,
        lane: Lane? = nil
    ) {
        self.state = state
        self.reason = reason
        self.archive = archive
        self.studies = studies
        self.nextAttemptAt = nextAttemptAt
        self.lane = lane
    }

    /// The fields `outcome` leaves a job with. A success replaces the job's studies (even with none), as does any
    /// outcome that counted studies (a retry or failure with "N of M instances"); the others keep them. `retryAt` is
    /// when a retry runs again: the worker pool's back-off decides it (``RetryPolicy/result(for:afterAttempt:now:)``).
    public init(_ outcome: PipelineOutcome, retryAt: Date? = nil) {
        self.init(state: outcome.state, reason: outcome.reason, archive: outcome.archive)
        if outcome.state == .succeeded || !outcome.studies.isEmpty { studies = outcome.studies }
        switch outcome {
        case .deferred(let until, _): nextAttemptAt = until
        case .retry: nextAttemptAt = retryAt
        case .notInPrimary: lane = .secondary
        case .succeeded, .discarded, .failed: break
        }
    }
}

extension Job {
    /// The job after `result` was recorded at `now`.
    public func applying(_ result: JobResult, now: Date) -> Job {
        var job = self
        job.state = result.state
        job.reason = result.reason
        job.archive = result.archive ?? archive
        job.studies = result.studies ?? studies
        job.nextAttemptAt = result.nextAttemptAt
        job.lane = result.lane ?? lane
        job.updatedAt = now
        return job
    }
}
