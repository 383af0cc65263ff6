public import Foundation
public import PixlCore

/// A ``JobStore`` in memory, faithful to the protocol's documented semantics, for in-process tests.
public actor InMemoryJobStore: JobStore {
    // MARK: Member variables

    private struct Entry {
        var job: Job
        var leaseUntil: Date?
        /// Insertion order, to break ties between jobs created at the same instant.
        var sequence: Int
    }

    private var entries: [UUID: Entry] = [:]
    private var sequence = 0
    /// Unfinished jobs by message identity (SPEC §4 deduplication).
    private var unfinished: [ImagingMessage.Identity: UUID] = [:]

    /// The store's errors.
    public struct Error: Swift.Error, Hashable, CustomStringConvertible {
        public var description: String
    }

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
            entries[job.id] = Entry(job: job, leaseUntil: nil, sequence: sequence)
            unfinished[message.identity] = job.id
            result.append(EnqueuedJob(job: job, isNew: true))
        }
        return result
    }

    public func claimNext(now: Date, lease: Duration) async throws -> Job? {
        let due = entries.values.filter { dueDate(of: $0).map { $0 <= now } ?? false }
        guard let oldest = due.min(by: { ($0.job.createdAt, $0.sequence) < ($1.job.createdAt, $1.sequence) }) else { return nil }
        var entry = oldest
        entry.job.state = .inProgress
        entry.job.attempts += 1
        entry.job.updatedAt = now
        entry.job.startedAt = now
        entry.job.nextAttemptAt = nil
        entry.leaseUntil = now.addingTimeInterval(lease.timeInterval)
        entries[entry.job.id] = entry
        return entry.job
    }

    public func renewLease(of id: UUID, now: Date, lease: Duration) async throws {
        guard var entry = entries[id], entry.job.state == .inProgress else {
            throw Error(description: "job \(id) is not in progress")
        }
        entry.leaseUntil = now.addingTimeInterval(lease.timeInterval)
        entries[id] = entry
    }

    @discardableResult
    public func record(_ outcome: PipelineOutcome, retryAt: Date?, for id: UUID, now: Date) async throws -> Job {
        guard var entry = entries[id] else { throw Error(description: "no job \(id)") }
        entry.job.state = outcome.state
        entry.job.reason = outcome.reason
        if let archive = outcome.archive { entry.job.archive = archive }
        if case .succeeded = outcome { entry.job.studies = outcome.succeededStudyIDs }
        switch outcome {
        case .deferred(let until, _): entry.job.nextAttemptAt = until
        case .retry: entry.job.nextAttemptAt = retryAt ?? now
        case .succeeded, .discarded, .failed: entry.job.nextAttemptAt = nil
        }
        entry.job.updatedAt = now
        entry.leaseUntil = nil
        entries[id] = entry
        if outcome.state.isFinal, unfinished[entry.job.message.identity] == id {
            unfinished[entry.job.message.identity] = nil
        }
        return entry.job
    }

    public func release(_ id: UUID, now: Date) async throws {
        guard var entry = entries[id], entry.job.state == .inProgress else { return }
        entry.job.state = .queued
        entry.job.attempts = max(0, entry.job.attempts - 1)
        entry.job.updatedAt = now
        entry.leaseUntil = nil
        entries[id] = entry
    }

    public func job(id: UUID) async throws -> Job? {
        entries[id]?.job
    }

    public func jobs(state: JobState?, project: String?, limit: Int, before: Date?) async throws -> [Job] {
        entries.values
            .filter { entry in
                (state == nil || entry.job.state == state) && (project == nil || entry.job.message.projectName == project)
                    && (before == nil || entry.job.createdAt < before!)
            }
            .sorted { ($0.job.createdAt, $0.sequence) > ($1.job.createdAt, $1.sequence) }
            .prefix(max(0, limit))
            .map(\.job)
    }

    public func countsByState() async throws -> [JobState: Int] {
        var counts: [JobState: Int] = [:]
        for entry in entries.values { counts[entry.job.state, default: 0] += 1 }
        return counts
    }

    public func nextDueDate() async throws -> Date? {
        entries.values.compactMap(dueDate(of:)).min()
    }

    // MARK: Test helpers

    /// Every job, oldest first.
    public var allJobs: [Job] {
        entries.values.sorted { $0.sequence < $1.sequence }.map(\.job)
    }

    private func dueDate(of entry: Entry) -> Date? {
        switch entry.job.state {
        case .queued: entry.job.updatedAt
        case .retry, .deferred: entry.job.nextAttemptAt ?? entry.job.updatedAt
        case .inProgress: entry.leaseUntil
        case .succeeded, .discarded, .failed: nil
        }
    }
}

extension Duration {
    var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
