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
    /// The archive's queue the job waits in: primary until the primary archive has not found it (issue 13).
    public var lane: Lane
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
        lane: Lane = .primary,
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
        self.lane = lane
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

/// A worker's hold on a job it claimed: the job, and the token that proves this claim is the current one.
///
/// Renewing, recording and releasing succeed only for the current claim: a worker whose lease ran out (frozen, cut off
/// from the database) and whose job another worker took over can no longer write anything about it.
public struct Claim: Sendable, Hashable {
    /// The job as the claim left it (in progress, its attempt counted).
    public var job: Job
    public var token: UUID

    public init(job: Job, token: UUID) {
        self.job = job
        self.token = token
    }
}

/// Durable job state (SPEC §4): where messages wait, are claimed by one worker, and end.
public protocol JobStore: Sendable {
    /// Stores messages in one transaction. For a message identical (``ImagingMessage/identity``) to an
    /// unfinished job, that job is returned instead of a new one.
    func enqueue(_ messages: [ImagingMessage], now: Date) async throws -> [EnqueuedJob]

    /// Claims a due job of `lane` (queued, due since it was created; retry/deferred whose time has come; in progress with
    /// an expired lease): of the highest priority; within it, of the first project in `projectOrder` that has one (the
    /// lane's fair share), else of any project; the earliest due, then the oldest. Each candidate is one index seek, tried
    /// in that order until one is found. Marks the job in progress with a lease until `now + lease` under a new token,
    /// and counts an attempt. Never hands the same job to two callers at once.
    func claimNext(in lane: Lane, projectOrder: [String], now: Date, lease: Duration) async throws -> Claim?

    /// Extends the lease of a claimed job.
    /// - Throws: ``JobStoreError/Code/leaseLost`` when `claim` is not the job's current claim.
    func renewLease(of claim: Claim, now: Date, lease: Duration) async throws

    /// Records what processing came to (final, or due again at `result`'s time), and ends the claim.
    /// Returns the job as it now is.
    /// - Throws: ``JobStoreError/Code/leaseLost`` when `claim` is not the job's current claim (nothing is written).
    @discardableResult
    func record(_ result: JobResult, for claim: Claim, now: Date) async throws -> Job

    /// Puts a claimed job back to queued without counting the attempt (graceful shutdown).
    /// - Throws: ``JobStoreError/Code/leaseLost`` when `claim` is not the job's current claim.
    func release(_ claim: Claim, now: Date) async throws

    func job(id: UUID) async throws -> Job?

    /// The newest job made for a message of this identity, in any state, or `nil`: how a message the broker delivers
    /// again after its job finished finds that job instead of making a new one.
    func latestJob(for identity: ImagingMessage.Identity) async throws -> Job?

    /// At most `limit` jobs matching `filter`, newest first (creation time, then insertion order), from `start`: a keyset
    /// page, found by an index seek whatever the size of the store.
    func jobs(matching filter: JobFilter, from start: PageStart, limit: Int) async throws -> JobPage

    /// Jobs per project and state, from counts the store keeps with its writes (never by counting rows).
    func counts() async throws -> JobCounts

    /// The operator's "retry a project's failed jobs": puts up to `limit` of the project's failed jobs back to
    /// queued in their lane with a fresh attempt budget ("retried by the operator"), unless a newer job was made for the
    /// same message (which stands for it). Returns how many it put back; the caller repeats until fewer than `limit`.
    func retryFailed(project: String, now: Date, limit: Int) async throws -> Int

    /// The operator's "cancel a project's waiting jobs": ends up to `limit` of the project's queued, retry and deferred jobs
    /// as discarded ("cancelled by the operator"). Jobs in progress finish as they would. Returns how many.
    func cancelWaiting(project: String, now: Date, limit: Int) async throws -> Int

    /// Answers when the store can be read (the database is reachable): for readiness probes.
    func ping() async throws

    /// The earliest time a job waiting in `lane` becomes due (`nil` when none waits), so the lane sleeps until then: an
    /// index seek per priority, whatever the backlog.
    func nextDueDate(in lane: Lane) async throws -> Date?
}

extension JobStore {
    /// Claims a due job of `lane`, with no project's turn before another's: the earliest due of the highest priority.
    public func claimNext(in lane: Lane, now: Date, lease: Duration) async throws -> Claim? {
        try await claimNext(in: lane, projectOrder: [], now: now, lease: lease)
    }
}
