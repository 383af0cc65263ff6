public import Foundation

/// One message and everything that has happened to it (SPEC §5, the job object).
public struct Job: Sendable, Hashable, Identifiable {
    public var id: UUID
    public var message: ImagingMessage
    public var state: JobState
    /// Why the job is in its state (discard reason, deferral, last error); free of patient identifiers.
    public var reason: String?
    /// How many times a worker has claimed the job.
    public var attempts: Int
    public var archive: Archive?
    /// What the job holds of each study: its Orthanc id, UID, archive and instance counts (SPEC §3, Completeness).
    public var studies: [StudyRecord]
    public var createdAt: Date
    public var updatedAt: Date
    /// When a worker last claimed the job (`nil` until the first claim).
    public var startedAt: Date?
    /// When a deferred or retried job becomes due again.
    public var nextAttemptAt: Date?

    public init(
        id: UUID,
        message: ImagingMessage,
        state: JobState,
        reason: String? = nil,
        attempts: Int = 0,
        archive: Archive? = nil,
        studies: [StudyRecord] = [],
        createdAt: Date,
        updatedAt: Date,
        startedAt: Date? = nil,
        nextAttemptAt: Date? = nil
    ) {
        self.id = id
        self.message = message
        self.state = state
        self.reason = reason
        self.attempts = attempts
        self.archive = archive
        self.studies = studies
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.startedAt = startedAt
        self.nextAttemptAt = nextAttemptAt
    }
}

/// The answer to an enqueue: the job, and whether it is new or an unfinished identical one.
public struct EnqueuedJob: Sendable, Hashable {
    public var job: Job
    public var isNew: Bool

    public init(job: Job, isNew: Bool) {
        self.job = job
        self.isNew = isNew
    }
}

/// Durable job state (SPEC §4): where messages wait, are claimed by one worker, and end.
public protocol JobStore: Sendable {
    /// Stores messages in one transaction. For a message identical (``ImagingMessage/identity``) to an
    /// unfinished job, that job is returned instead of a new one.
    func enqueue(_ messages: [ImagingMessage], now: Date) async throws -> [EnqueuedJob]

    /// Claims the oldest job that is due (queued, or retry/deferred whose time has come, or in progress
    /// with an expired lease), marks it in progress with a lease until `now + lease`, and counts an attempt.
    /// Never hands the same job to two callers at once.
    func claimNext(now: Date, lease: Duration) async throws -> Job?

    /// Extends the lease of a job still in progress.
    func renewLease(of id: UUID, now: Date, lease: Duration) async throws

    /// Records what processing came to (final, or due again at `result`'s time), and ends the lease.
    /// Returns the job as it now is.
    @discardableResult
    func record(_ result: JobResult, for id: UUID, now: Date) async throws -> Job

    /// Puts a claimed job back to queued without counting the attempt (graceful shutdown).
    func release(_ id: UUID, now: Date) async throws

    func job(id: UUID) async throws -> Job?

    /// Jobs newest first, filtered by state and project, at most `limit`, created before `before` when given.
    func jobs(state: JobState?, project: String?, limit: Int, before: Date?) async throws -> [Job]

    func countsByState() async throws -> [JobState: Int]

    /// The earliest time a waiting job becomes due (`nil` when none waits), so workers sleep until then.
    func nextDueDate() async throws -> Date?
}
