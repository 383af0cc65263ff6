import Foundation
public import PixlCore
public import Testing

/// What every ``JobStore`` must do, checked the same way on each (in memory, SQLite, PostgreSQL), so that the
/// stores cannot drift apart. Each store's tests run every check on a fresh, migrated store:
///
/// ```swift
/// @Test(arguments: JobStoreConformance.Check.allCases)
/// func conforms(_ check: JobStoreConformance.Check) async throws {
///     try await JobStoreConformance.run(check, on: InMemoryJobStore())
/// }
/// ```
public enum JobStoreConformance {
    public enum Check: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case enqueueDeduplicatesUnfinishedJobs
        case claimsOldestDueFirst
        case claimsHighestPriorityFirst
        case claimsEarliestDueWithinAPriority
        case countsFollowEveryWrite
        case retriesAndDeferralsWaitForTheirTime
        case leasesExpireRenewAndRelease
        case recordAppliesTheOutcomeRules
        case refusesForgedClaims
        case aStaleClaimWritesNothing
        case listsNewestFirstWithFilters
        case pagesByKeysetBothWays
        case lanesClaimOnlyTheirOwnJobs
        case claimsFollowTheProjectOrder
        case operatorRetriesFailedAndCancelsWaiting
        case keepsTheTraceContextFromEnqueueToClaim

        public var testDescription: String { rawValue }
    }

    public static func run(_ check: Check, on store: some JobStore) async throws {
        switch check {
        case .enqueueDeduplicatesUnfinishedJobs: try await enqueueDeduplicatesUnfinishedJobs(store)
        case .claimsOldestDueFirst: try await claimsOldestDueFirst(store)
        case .claimsHighestPriorityFirst: try await claimsHighestPriorityFirst(store)
        case .retriesAndDeferralsWaitForTheirTime: try await retriesAndDeferralsWaitForTheirTime(store)
        case .leasesExpireRenewAndRelease: try await leasesExpireRenewAndRelease(store)
        case .recordAppliesTheOutcomeRules: try await recordAppliesTheOutcomeRules(store)
        case .refusesForgedClaims: try await refusesForgedClaims(store)
        case .aStaleClaimWritesNothing: try await aStaleClaimWritesNothing(store)
        case .listsNewestFirstWithFilters: try await listsNewestFirstWithFilters(store)
        case .pagesByKeysetBothWays: try await pagesByKeysetBothWays(store)
        case .claimsEarliestDueWithinAPriority: try await claimsEarliestDueWithinAPriority(store)
        case .countsFollowEveryWrite: try await countsFollowEveryWrite(store)
        case .lanesClaimOnlyTheirOwnJobs: try await lanesClaimOnlyTheirOwnJobs(store)
        case .claimsFollowTheProjectOrder: try await claimsFollowTheProjectOrder(store)
        case .operatorRetriesFailedAndCancelsWaiting: try await operatorRetriesFailedAndCancelsWaiting(store)
        case .keepsTheTraceContextFromEnqueueToClaim: try await keepsTheTraceContextFromEnqueueToClaim(store)
        }
    }

    static let t0 = Date(timeIntervalSince1970: 1_750_000_000)
    static func message(_ index: Int, project: String = "proj", series: String = "") -> ImagingMessage {
        .synthetic(index, project: project, series: series)
    }

    /// Times compare to the millisecond: what every backend keeps.
    static func same(_ date: Date?, _ expected: Date) -> Bool {
        date.map { abs($0.timeIntervalSince(expected)) < 0.001 } ?? false
    }

    static func enqueueDeduplicatesUnfinishedJobs(_ store: some JobStore) async throws {
        let first = try await store.enqueue([message(1), message(2), message(1)], now: t0)
        #expect(first.map(\.isNew) == [true, true, false])
        #expect(first[2].job.id == first[0].job.id)
        #expect(first[0].job.message == message(1))
        #expect(first[0].job.state == .queued && first[0].job.attempts == 0)

        // Later, still unfinished: the same job, also once claimed.
        let again = try await store.enqueue([message(1)], now: t0 + 5)
        #expect(again[0].isNew == false && again[0].job.id == first[0].job.id)
        let claim = try #require(try await store.claimNext(in: .primary, now: t0 + 6, lease: .seconds(30)))
        #expect(claim.job.id == first[0].job.id)
        #expect(try await store.enqueue([message(1)], now: t0 + 7)[0].job.id == first[0].job.id)

        // Another series, or another project, is another job.
        #expect(try await store.enqueue([message(1, series: "1.2.3.1.1\\1.2.3.1.2")], now: t0 + 8)[0].isNew)
        #expect(try await store.enqueue([message(1, project: "other")], now: t0 + 8)[0].isNew)

        // Once finished, an identical message is new work; the newest job of the identity is found whatever its state.
        let finished = try await store.record(JobResult(.succeeded(archive: .local, orthancIDs: ["abc"])), for: claim, now: t0 + 9)
        #expect(try await store.latestJob(for: message(1).identity) == finished)
        let afterFinish = try await store.enqueue([message(1)], now: t0 + 10)
        #expect(afterFinish[0].isNew && afterFinish[0].job.id != claim.job.id)
        #expect(try await store.counts().byState[.queued] == 4)
        #expect(try await store.latestJob(for: message(1).identity)?.id == afterFinish[0].job.id)
        #expect(try await store.latestJob(for: message(9).identity) == nil)
    }

    static func claimsOldestDueFirst(_ store: some JobStore) async throws {
        #expect(try await store.claimNext(in: .primary, now: t0, lease: .seconds(30)) == nil)
        #expect(try await store.nextDueDate(in: .primary) == nil)
        // Insertion order within a batch, then across batches, even for jobs created at the same instant.
        let firstBatch = try await store.enqueue((1...3).map { message($0) }, now: t0).map(\.job.id)
        let secondBatch = try await store.enqueue((4...5).map { message($0) }, now: t0).map(\.job.id)
        #expect(same(try await store.nextDueDate(in: .primary), t0))
        var claims: [Claim] = []
        while let claim = try await store.claimNext(in: .primary, now: t0 + 1, lease: .seconds(30)) {
            #expect(claim.job.state == .inProgress && claim.job.attempts == 1 && same(claim.job.startedAt, t0 + 1))
            claims.append(claim)
        }
        #expect(claims.map(\.job.id) == firstBatch + secondBatch)
        #expect(Set(claims.map(\.token)).count == claims.count, "every claim has a token of its own")
        // Every job in progress: the next due date is the first lease's end.
        #expect(same(try await store.nextDueDate(in: .primary), t0 + 31))
    }

    static func claimsHighestPriorityFirst(_ store: some JobStore) async throws {
        func message(_ index: Int, priority: Int) -> ImagingMessage {
            var message = Self.message(index)
            message.priority = priority
            return message
        }
        let low = try await store.enqueue([message(1, priority: 1), message(2, priority: 1)], now: t0).map(\.job.id)
        let urgent = try await store.enqueue([message(3, priority: 5)], now: t0 + 1)[0].job
        let middle = try await store.enqueue([message(4, priority: 3)], now: t0 + 2)[0].job.id
        #expect(urgent.message.priority == 5)
        #expect(try await store.job(id: urgent.id)?.message.priority == 5)
        var claimed: [UUID] = []
        while let claim = try await store.claimNext(in: .primary, now: t0 + 3, lease: .seconds(30)) { claimed.append(claim.job.id) }
        #expect(claimed == [urgent.id, middle] + low)
        // Priority does not make another job of the same study.
        #expect(try await store.enqueue([message(3, priority: 1)], now: t0 + 4)[0].job.id == urgent.id)
    }

    static func retriesAndDeferralsWaitForTheirTime(_ store: some JobStore) async throws {
        let ids = try await store.enqueue((1...3).map { message($0) }, now: t0).map(\.job.id)
        var claims: [Claim] = []
        for _ in ids { claims.append(try #require(try await store.claimNext(in: .primary, now: t0 + 1, lease: .seconds(30)))) }
        let retried = try await store.record(JobResult(.retry(reason: "Orthanc unavailable"), retryAt: t0 + 62), for: claims[0], now: t0 + 2)
        #expect(retried.state == .retry && retried.reason == "Orthanc unavailable" && same(retried.nextAttemptAt, t0 + 62))
        let deferred = try await store.record(JobResult(.deferred(until: t0 + 3600, reason: "outside the window")), for: claims[1], now: t0 + 2)
        #expect(deferred.state == .deferred && same(deferred.nextAttemptAt, t0 + 3600))
        try await store.record(JobResult(.failed(error: "boom")), for: claims[2], now: t0 + 2)

        #expect(try await store.claimNext(in: .primary, now: t0 + 61, lease: .seconds(30)) == nil)
        #expect(same(try await store.nextDueDate(in: .primary), t0 + 62))
        let again = try #require(try await store.claimNext(in: .primary, now: t0 + 62, lease: .seconds(7200)))
        #expect(again.job.id == ids[0] && again.job.attempts == 2 && again.job.nextAttemptAt == nil)
        #expect(try await store.claimNext(in: .primary, now: t0 + 3599, lease: .seconds(3000)) == nil)
        #expect(try await store.claimNext(in: .primary, now: t0 + 3600, lease: .seconds(30))?.job.id == ids[1])
    }

    static func leasesExpireRenewAndRelease(_ store: some JobStore) async throws {
        let ids = try await store.enqueue((1...2).map { message($0) }, now: t0).map(\.job.id)
        let a = try #require(try await store.claimNext(in: .primary, now: t0, lease: .seconds(10)))
        let b = try #require(try await store.claimNext(in: .primary, now: t0, lease: .seconds(10)))
        #expect([a.job.id, b.job.id] == ids)
        // Renewal keeps others off a; b's lease runs out and b is claimed again, counting an attempt.
        try await store.renewLease(of: a, now: t0 + 5, lease: .seconds(60))
        let reclaimed = try #require(try await store.claimNext(in: .primary, now: t0 + 11, lease: .seconds(100)))
        #expect(reclaimed.job.id == b.job.id && reclaimed.job.attempts == 2 && reclaimed.token != b.token)
        #expect(try await store.claimNext(in: .primary, now: t0 + 64, lease: .seconds(100)) == nil)
        #expect(try await store.claimNext(in: .primary, now: t0 + 66, lease: .seconds(100))?.job.id == a.job.id)

        // Release puts a claimed job back, due at once, without counting the attempt.
        try await store.release(reclaimed, now: t0 + 67)
        let released = try #require(try await store.job(id: b.job.id))
        #expect(released.state == .queued && released.attempts == 1 && released.nextAttemptAt == nil)
        #expect(try await store.nextDueDate(in: .primary).map { $0 <= t0 + 67 } == true)
        #expect(try await store.claimNext(in: .primary, now: t0 + 68, lease: .seconds(10))?.job.id == b.job.id)
    }

    static func recordAppliesTheOutcomeRules(_ store: some JobStore) async throws {
        let complete = [
            StudyRecord(
                orthancID: "s1", studyInstanceUID: "1.2.3.1", archive: .secondary, expectedInstances: 3, presentInstances: 3,
                series: [
                    SeriesRecord(seriesInstanceUID: "1.2.3.1.1", modality: "CT", expectedInstances: 2, presentInstances: 2),
                    SeriesRecord(seriesInstanceUID: "1.2.3.1.2", expectedInstances: 1, presentInstances: 1),
                ]
            ),
            StudyRecord(orthancID: "s2", studyInstanceUID: "1.2.3.2", archive: .local),
        ]
        let partial = [StudyRecord(orthancID: "s1", studyInstanceUID: "1.2.3.1", archive: .primary, expectedInstances: 3, presentInstances: 1)]
        var ids = try await store.enqueue((1...2).map { message($0) }, now: t0).map(\.job.id)
        /// Claims the job `id` at `at` (it must be the only one due).
        func claim(_ id: UUID, at: Date) async throws -> Claim {
            let claim = try #require(try await store.claimNext(in: .primary, now: at, lease: .seconds(5)))
            #expect(claim.job.id == id)
            return claim
        }

        let succeeded = try await store.record(
            JobResult(.succeeded(archive: .secondary, studies: complete)), for: try await claim(ids[0], at: t0), now: t0 + 1
        )
        #expect(succeeded.state == .succeeded && succeeded.archive == .secondary && succeeded.studies == complete)
        #expect(succeeded.reason == nil && succeeded.nextAttemptAt == nil && same(succeeded.updatedAt, t0 + 1))
        #expect(try await store.job(id: ids[0]) == succeeded)

        // A retry that counted the studies records what it counted; a retry or a discard without counts keeps them.
        let counted = try await store.record(
            JobResult(.retry(reason: "1 of 3 instances", studies: partial), retryAt: t0 + 10), for: try await claim(ids[1], at: t0 + 2), now: t0 + 3
        )
        #expect(counted.studies == partial && counted.reason == "1 of 3 instances")
        let retried = try await store.record(JobResult(.retry(reason: "x"), retryAt: t0 + 20), for: try await claim(ids[1], at: t0 + 10), now: t0 + 11)
        #expect(retried.studies == partial)
        let discarded = try await store.record(JobResult(.discarded(reason: "not found")), for: try await claim(ids[1], at: t0 + 20), now: t0 + 21)
        #expect(discarded.studies == partial && discarded.reason == "not found" && discarded.nextAttemptAt == nil)

        // A success replaces the studies, even with none.
        ids.append(try await store.enqueue([message(3)], now: t0 + 21)[0].job.id)
        _ = try await store.record(JobResult(.retry(reason: "x", studies: partial), retryAt: t0 + 30), for: try await claim(ids[2], at: t0 + 22), now: t0 + 23)
        let emptied = try await store.record(JobResult(.succeeded(archive: .local, studies: [])), for: try await claim(ids[2], at: t0 + 30), now: t0 + 31)
        #expect(emptied.archive == .local && emptied.studies.isEmpty)
    }

    /// Renewing, recording or releasing with a claim the store never gave refuses, and changes nothing.
    static func refusesForgedClaims(_ store: some JobStore) async throws {
        let queued = try await store.enqueue([message(1)], now: t0)[0].job
        let claimed = try #require(try await store.claimNext(in: .primary, now: t0, lease: .seconds(30)))
        let unknown = Claim(job: Job(id: UUID(), message: message(2), state: .inProgress, createdAt: t0, updatedAt: t0), token: UUID())
        for forged in [Claim(job: queued, token: UUID()), Claim(job: claimed.job, token: UUID()), unknown] {
            let renewal = await #expect(throws: JobStoreError.self) { try await store.renewLease(of: forged, now: t0, lease: .seconds(5)) }
            #expect(renewal?.code == .leaseLost)
            let record = await #expect(throws: JobStoreError.self) { try await store.record(JobResult(.failed(error: "x")), for: forged, now: t0) }
            #expect(record?.code == .leaseLost)
            let release = await #expect(throws: JobStoreError.self) { try await store.release(forged, now: t0) }
            #expect(release?.code == .leaseLost)
        }
        #expect(try await store.job(id: queued.id) == claimed.job)
        #expect(try await store.job(id: unknown.job.id) == nil)
    }

    /// A worker frozen past its lease (SIGSTOP, a pause) while another takes its job over and finishes it: once it
    /// resumes, it can neither renew, nor record, nor release, and the job keeps the other worker's result.
    static func aStaleClaimWritesNothing(_ store: some JobStore) async throws {
        let id = try await store.enqueue([message(1)], now: t0)[0].job.id
        let frozen = try #require(try await store.claimNext(in: .primary, now: t0, lease: .seconds(10)))
        let other = try #require(try await store.claimNext(in: .primary, now: t0 + 11, lease: .seconds(10)))
        #expect(other.job.id == id && other.job.attempts == 2)
        // While the other worker holds it.
        await #expect(throws: JobStoreError.self) { try await store.renewLease(of: frozen, now: t0 + 12, lease: .seconds(10)) }
        await #expect(throws: JobStoreError.self) { try await store.record(JobResult(.retry(reason: "late"), retryAt: t0 + 60), for: frozen, now: t0 + 12) }
        // Once it finished.
        let done = try await store.record(JobResult(.succeeded(archive: .primary, orthancIDs: ["s1"])), for: other, now: t0 + 13)
        for write in [
            { try await store.renewLease(of: frozen, now: t0 + 14, lease: .seconds(10)) },
            { _ = try await store.record(JobResult(.retry(reason: "late"), retryAt: t0 + 60), for: frozen, now: t0 + 14) },
            { try await store.release(frozen, now: t0 + 14) },
        ] as [@Sendable () async throws -> Void] {
            let error = await #expect(throws: JobStoreError.self) { try await write() }
            #expect(error?.code == .leaseLost)
        }
        #expect(try await store.job(id: id) == done)
        #expect(try await store.claimNext(in: .primary, now: t0 + 100, lease: .seconds(10)) == nil, "a finished job is never claimed again")
    }

    /// Within a priority, the job due first is claimed first, whatever its state; a backlog of jobs not yet due, even at
    /// a higher priority, never hides a due one.
    static func claimsEarliestDueWithinAPriority(_ store: some JobStore) async throws {
        func message(_ index: Int, priority: Int) -> ImagingMessage {
            var message = Self.message(index)
            message.priority = priority
            return message
        }
        // Urgent jobs deferred to the night, and a retry due before a job queued later.
        let urgent = try await store.enqueue((10..<14).map { message($0, priority: 5) }, now: t0).map(\.job.id)
        let retried = try await store.enqueue([message(1, priority: 1)], now: t0).map(\.job.id)[0]
        for _ in urgent + [retried] {
            let claim = try #require(try await store.claimNext(in: .primary, now: t0, lease: .seconds(30)))
            let result = claim.job.id == retried
                ? JobResult(.retry(reason: "Orthanc unavailable"), retryAt: t0 + 5)
                : JobResult(.deferred(until: t0 + 36_000, reason: "outside the window"))
            try await store.record(result, for: claim, now: t0)
        }
        let queuedLater = try await store.enqueue([message(2, priority: 1)], now: t0 + 10)[0].job.id
        #expect(same(try await store.nextDueDate(in: .primary), t0 + 5))
        #expect(try await store.claimNext(in: .primary, now: t0 + 20, lease: .seconds(30))?.job.id == retried)
        #expect(try await store.claimNext(in: .primary, now: t0 + 20, lease: .seconds(30))?.job.id == queuedLater)
        #expect(try await store.claimNext(in: .primary, now: t0 + 20, lease: .seconds(30)) == nil)
        // Both leases end at t0 + 50, before the urgent jobs' time.
        #expect(same(try await store.nextDueDate(in: .primary), t0 + 50))
        #expect(try await store.claimNext(in: .primary, now: t0 + 36_000, lease: .seconds(30))?.job.id == urgent[0])
    }

    /// The counts by project and state follow enqueues, claims, outcomes, releases and taken-over leases.
    static func countsFollowEveryWrite(_ store: some JobStore) async throws {
        func counts() async throws -> [String: [JobState: Int]] {
            try await store.counts().byProject.mapValues { $0.filter { $0.value != 0 } }
        }
        #expect(try await counts().isEmpty)
        _ = try await store.enqueue([message(1, project: "a"), message(2, project: "a"), message(3, project: "b"), message(1, project: "a")], now: t0)
        #expect(try await counts() == ["a": [.queued: 2], "b": [.queued: 1]])
        let first = try #require(try await store.claimNext(in: .primary, now: t0, lease: .seconds(10)))
        let second = try #require(try await store.claimNext(in: .primary, now: t0, lease: .seconds(10)))
        #expect(try await counts() == ["a": [.inProgress: 2], "b": [.queued: 1]])
        try await store.record(JobResult(.succeeded(archive: .local, orthancIDs: ["s"])), for: first, now: t0 + 1)
        try await store.release(second, now: t0 + 1)
        #expect(try await counts() == ["a": [.succeeded: 1, .queued: 1], "b": [.queued: 1]])
        let third = try #require(try await store.claimNext(in: .primary, now: t0 + 2, lease: .seconds(10)))
        _ = try #require(try await store.claimNext(in: .primary, now: t0 + 2, lease: .seconds(10)))
        let takenOver = try #require(try await store.claimNext(in: .primary, now: t0 + 20, lease: .seconds(10)))
        #expect(takenOver.job.id == third.job.id, "of two expired leases, the older job's is taken over first")
        try await store.record(JobResult(.deferred(until: t0 + 3600, reason: "window")), for: takenOver, now: t0 + 21)
        let total = try await store.counts()
        #expect(total.byState[.deferred] == 1 && total.byState[.succeeded] == 1 && total.byState[.inProgress] == 1)
        #expect(total.byState.values.reduce(0, +) == 3)
    }

    /// Issue 14, the operator's actions on a project: failed jobs back to queued with a fresh budget (not one whose
    /// message has a newer job), waiting ones discarded; in progress, finished and other projects' jobs untouched; in
    /// batches; the counts follow.
    static func operatorRetriesFailedAndCancelsWaiting(_ store: some JobStore) async throws {
        let jobs = try await store.enqueue((0..<7).map { message($0, project: "audit") } + [message(0, project: "other")], now: t0).map(\.job)
        func claim(_ index: Int) async throws -> Claim {
            let claim = try #require(try await store.claimNext(in: .primary, now: t0 + 1, lease: .seconds(600)))
            #expect(claim.job.id == jobs[index].id)
            return claim
        }
        // 0, 1, 2 failed; 3 retry; 4 deferred; 5 in progress; 6 queued; the other project's job failed.
        for index in 0...2 { try await store.record(JobResult(.failed(error: "boom")), for: try await claim(index), now: t0 + 2) }
        try await store.record(JobResult(.retry(reason: "blink"), retryAt: t0 + 60), for: try await claim(3), now: t0 + 2)
        try await store.record(JobResult(.deferred(until: t0 + 3600, reason: "window")), for: try await claim(4), now: t0 + 2)
        let inProgress = try await claim(5)
        let other = try #require(try await store.claimNext(in: .primary, projectOrder: ["other"], now: t0 + 3, lease: .seconds(600)))
        #expect(other.job.message.projectName == "other")
        try await store.record(JobResult(.failed(error: "boom")), for: other, now: t0 + 3)
        // Job 2's message was sent again after it failed: the new job stands for it.
        let resent = try #require(try await store.enqueue([message(2, project: "audit")], now: t0 + 4).first)
        #expect(resent.isNew)

        #expect(try await store.retryFailed(project: "audit", now: t0 + 5, limit: 1) == 1)
        #expect(try await store.retryFailed(project: "audit", now: t0 + 5, limit: 1) == 1)
        #expect(try await store.retryFailed(project: "audit", now: t0 + 5, limit: 1) == 0)
        for index in [0, 1] {
            let job = try #require(try await store.job(id: jobs[index].id))
            #expect(job.state == .queued && job.attempts == 0 && job.reason == "retried by the operator" && job.nextAttemptAt == nil)
        }
        #expect(try await store.job(id: jobs[2].id)?.state == .failed)
        #expect(try await store.job(id: jobs[7].id)?.state == .failed, "another project's job is not touched")
        #expect(try await store.enqueue([message(0, project: "audit")], now: t0 + 6).first?.job.id == jobs[0].id, "a retried job is unfinished again")

        // Waiting: 0, 1 (retried), 3, 4, 6, and the resent one.
        #expect(try await store.cancelWaiting(project: "audit", now: t0 + 7, limit: 4) == 4)
        #expect(try await store.cancelWaiting(project: "audit", now: t0 + 7, limit: 4) == 2)
        for id in [jobs[0].id, jobs[1].id, jobs[3].id, jobs[4].id, jobs[6].id, resent.job.id] {
            let job = try #require(try await store.job(id: id))
            #expect(job.state == .discarded && job.reason == "cancelled by the operator" && job.nextAttemptAt == nil)
        }
        #expect(try await store.job(id: inProgress.job.id)?.state == .inProgress)
        let counts = try await store.counts().byProject["audit"] ?? [:]
        #expect(counts[.discarded] == 6 && counts[.inProgress] == 1 && counts[.failed] == 1 && (counts[.queued] ?? 0) == 0)
    }

    /// The sender's trace context is stored with the job and comes back with its claim, so the worker's span continues
    /// the sender's trace; a message without one has none. It is no part of the identity: the same message with another
    /// context is the same unfinished job, which keeps the context it was created with.
    static func keepsTheTraceContextFromEnqueueToClaim(_ store: some JobStore) async throws {
        let traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        let context = try #require(TraceContext(traceparent: traceparent, tracestate: "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"))
        var traced = message(1)
        traced.traceContext = context
        var withoutState = message(2)
        withoutState.traceContext = try #require(TraceContext(traceparent: traceparent, tracestate: nil))
        let enqueued = try await store.enqueue([traced, withoutState, message(3)], now: t0)
        #expect(enqueued.map(\.job.message.traceContext) == [context, withoutState.traceContext, nil])

        var other = message(1)
        other.traceContext = TraceContext(traceparent: "00-11111111111111111111111111111111-2222222222222222-01", tracestate: nil)
        let again = try await store.enqueue([other], now: t0 + 1)[0]
        #expect(!again.isNew && again.job.id == enqueued[0].job.id && again.job.message.traceContext == context)

        var claimed: [UUID: TraceContext?] = [:]
        while let claim = try await store.claimNext(in: .primary, now: t0 + 2, lease: .seconds(30)) {
            claimed.updateValue(claim.job.message.traceContext, forKey: claim.job.id)
        }
        #expect(claimed == [enqueued[0].job.id: context, enqueued[1].job.id: withoutState.traceContext, enqueued[2].job.id: nil])
        #expect(try await store.job(id: enqueued[0].job.id)?.message == traced)
        #expect(try await store.latestJob(for: traced.identity)?.message.traceContext == context)
    }
}
