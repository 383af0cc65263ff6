public import Foundation
public import PixlCore

/// A ``JobStore`` in memory, for in-process tests; ``JobStoreConformance`` holds it to the same behaviour as the
/// SQL stores.
public actor InMemoryJobStore: JobStore {
    // MARK: Member variables

    private struct Entry {
        var job: Job
        var leaseUntil: Date?
        /// The current claim's token, while the job is in progress.
        var token: UUID?
        /// Insertion order: "oldest first".
        var sequence: Int
    }

    private var entries: [UUID: Entry] = [:]
    private var sequence = 0
    /// Unfinished jobs by message identity (SPEC §4 deduplication).
    private var unfinished: [ImagingMessage.Identity: UUID] = [:]

    // MARK: Initialization

    public init() {}

    // MARK: JobStore

    public func enqueue(_ messages: [ImagingMessage], now: Date) async throws -> [EnqueuedJob] {
        var result: [EnqueuedJob] = []
        for message in messages {
            if let id = unfinished[message.identity], let existing = entries[id] {
                result.append(EnqueuedJob(job: existing.job, isNew: false))
                continue
            }
            let job = Job(id: UUID(), message: message, state: .queued, createdAt: now, updatedAt: now)
            sequence += 1
            entries[job.id] = Entry(job: job, leaseUntil: nil, token: nil, sequence: sequence)
            unfinished[message.identity] = job.id
            result.append(EnqueuedJob(job: job, isNew: true))
        }
        return result
    }

    public func claimNext(in lane: Lane, projectOrder: [String], now: Date, lease: Duration) async throws -> Claim? {
        let due = entries.values.compactMap { entry in
            entry.job.lane == lane ? dueDate(of: entry).flatMap { $0 <= now ? (entry, $0) : nil } : nil
        }
        // Highest priority first; within it, the first project of the order with a due job, else any; then earliest
        // due, then oldest.
        let turns = Dictionary(projectOrder.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        func rank(_ candidate: (entry: Entry, due: Date)) -> (Int, Int, Date, Int) {
            (-Int(candidate.entry.job.message.priority), turns[candidate.entry.job.message.projectName] ?? projectOrder.count, candidate.due,
             candidate.entry.sequence)
        }
        guard var entry = due.min(by: { rank($0) < rank($1) })?.0 else { return nil }
        entry.job.state = .inProgress
        entry.job.attempts += 1
        entry.job.updatedAt = now
        entry.job.startedAt = now
        entry.job.nextAttemptAt = nil
        entry.leaseUntil = now.addingTimeInterval(lease.seconds)
        entry.token = UUID()
        entries[entry.job.id] = entry
        return Claim(job: entry.job, token: entry.token!)
    }

    public func renewLease(of claim: Claim, now: Date, lease: Duration) async throws {
        var entry = try held(by: claim)
        entry.leaseUntil = now.addingTimeInterval(lease.seconds)
        entry.job.updatedAt = now
        entries[entry.job.id] = entry
    }

    @discardableResult
    public func record(_ result: JobResult, for claim: Claim, now: Date) async throws -> Job {
        var entry = try held(by: claim)
        entry.job = entry.job.applying(result, now: now)
        entry.leaseUntil = nil
        entry.token = nil
        entries[entry.job.id] = entry
        if result.state.isFinal, unfinished[entry.job.message.identity] == entry.job.id {
            unfinished[entry.job.message.identity] = nil
        }
        return entry.job
    }

    public func release(_ claim: Claim, now: Date) async throws {
        var entry = try held(by: claim)
        entry.job.state = .queued
        entry.job.attempts = max(0, entry.job.attempts - 1)
        entry.job.updatedAt = now
        entry.job.nextAttemptAt = nil
        entry.leaseUntil = nil
        entry.token = nil
        entries[entry.job.id] = entry
    }

    public func retryFailed(project: String, now: Date, limit: Int) async throws -> Int {
        let failed = oldestFirst { entry in
            entry.job.message.projectName == project && entry.job.state == .failed
                && !entries.values.contains { $0.job.message.identity == entry.job.message.identity && $0.sequence > entry.sequence }
        }
        for var entry in failed.prefix(limit) {
            entry.job.state = .queued
            entry.job.attempts = 0
            entry.job.reason = "retried by the operator"
            entry.job.nextAttemptAt = nil
            entry.job.updatedAt = now
            entries[entry.job.id] = entry
            unfinished[entry.job.message.identity] = entry.job.id
        }
        return min(failed.count, limit)
    }

    public func cancelWaiting(project: String, now: Date, limit: Int) async throws -> Int {
        let waiting = oldestFirst { entry in
            entry.job.message.projectName == project && [.queued, .retry, .deferred].contains(entry.job.state)
        }
        for var entry in waiting.prefix(limit) {
            entry.job.state = .discarded
            entry.job.reason = "cancelled by the operator"
            entry.job.nextAttemptAt = nil
            entry.job.updatedAt = now
            entries[entry.job.id] = entry
            unfinished[entry.job.message.identity] = nil
        }
        return min(waiting.count, limit)
    }

    /// The entries matching `condition`, oldest first (the SQL stores take a batch in index order: the project's, by state).
    private func oldestFirst(_ condition: (Entry) -> Bool) -> [Entry] {
        entries.values.filter(condition).sorted { ($0.job.createdAt, $0.sequence) < ($1.job.createdAt, $1.sequence) }
    }

    public func job(id: UUID) async throws -> Job? {
        entries[id]?.job
    }

    public func latestJob(for identity: ImagingMessage.Identity) async throws -> Job? {
        entries.values.filter { $0.job.message.identity == identity }.max { $0.sequence < $1.sequence }?.job
    }

    public func jobs(matching filter: JobFilter, from start: PageStart, limit: Int) async throws -> JobPage {
        let newestFirst = entries.values
            .filter { entry in
                (filter.state.map { entry.job.state == $0 } ?? true)
                    && (filter.project.map { entry.job.message.projectName == $0 } ?? true)
                    && (filter.createdSince.map { entry.job.createdAt >= $0 } ?? true)
                    && (filter.createdUntil.map { entry.job.createdAt < $0 } ?? true)
            }
            .sorted { ($0.job.createdAt, $0.sequence) > ($1.job.createdAt, $1.sequence) }
        func place(_ cursor: JobCursor) -> (Date, Int)? {
            entries.values.first { Int64($0.sequence) == cursor.position }.map { ($0.job.createdAt, $0.sequence) }
        }
        let fetched: [Entry]
        switch start {
        case .newest:
            fetched = Array(newestFirst.prefix(limit + 1))
        case .oldest:
            fetched = Array(newestFirst.reversed().prefix(limit + 1))
        case .olderThan(let cursor):
            guard let place = place(cursor) else { return JobPage(jobs: [], older: nil, newer: nil) }
            fetched = Array(newestFirst.filter { ($0.job.createdAt, $0.sequence) < place }.prefix(limit + 1))
        case .newerThan(let cursor):
            guard let place = place(cursor) else { return JobPage(jobs: [], older: nil, newer: nil) }
            fetched = Array(newestFirst.reversed().filter { ($0.job.createdAt, $0.sequence) > place }.prefix(limit + 1))
        }
        return JobPage(fetched: fetched.map { ($0.job, JobCursor(position: Int64($0.sequence))) }, limit: limit, start: start)
    }

    public func counts() async throws -> JobCounts {
        var counts = JobCounts()
        for entry in entries.values { counts.add(1, project: entry.job.message.projectName, lane: entry.job.lane, state: entry.job.state) }
        return counts
    }

    public func ping() async throws {}

    public func nextDueDate(in lane: Lane) async throws -> Date? {
        entries.values.filter { $0.job.lane == lane }.compactMap(dueDate(of:)).min()
    }

    // MARK: Test helpers

    /// Every job, oldest first.
    public var allJobs: [Job] {
        entries.values.sorted { $0.sequence < $1.sequence }.map(\.job)
    }

    /// The claimed job's entry, if `claim` is its current claim.
    private func held(by claim: Claim) throws -> Entry {
        guard let entry = entries[claim.job.id], entry.job.state == .inProgress, entry.token == claim.token else {
            throw JobStoreError(.leaseLost, jobID: claim.job.id)
        }
        return entry
    }

    private func dueDate(of entry: Entry) -> Date? {
        switch entry.job.state {
        case .queued: entry.job.createdAt
        case .retry, .deferred: entry.job.nextAttemptAt
        case .inProgress: entry.leaseUntil
        case .succeeded, .discarded, .failed: nil
        }
    }
}
