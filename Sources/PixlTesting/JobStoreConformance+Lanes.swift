import Foundation
public import PixlCore
import Testing

/// The lanes' checks (issue 13): each lane claims only its own jobs, in the fair share's project order.
extension JobStoreConformance {
    /// Issue 13: a job enters the secondary lane when recorded there, and from then on only that lane claims it, sees it
    /// due and counts it; the primary lane goes on with its own.
    static func lanesClaimOnlyTheirOwnJobs(_ store: some JobStore) async throws {
        let jobs = try await store.enqueue([message(1), message(2), message(3)], now: t0).map(\.job)
        #expect(jobs.allSatisfy { $0.lane == .primary })
        #expect(try await store.claimNext(in: .secondary, now: t0, lease: .seconds(10)) == nil)
        #expect(try await store.nextDueDate(in: .secondary) == nil)
        let first = try #require(try await store.claimNext(in: .primary, now: t0, lease: .seconds(10)))
        let handedOver = try await store.record(JobResult(.notInPrimary(reason: "not found in primary archive")), for: first, now: t0 + 1)
        #expect(handedOver.lane == .secondary && handedOver.state == .queued && handedOver.attempts == 1)
        #expect(same(try await store.nextDueDate(in: .secondary), t0), "a job handed over keeps its age in the new lane")

        let second = try #require(try await store.claimNext(in: .primary, now: t0 + 2, lease: .seconds(10)))
        #expect(second.job.id == jobs[1].id, "the primary lane goes on with its own jobs")
        let deferred = JobResult(.deferred(until: t0 + 3600, reason: "secondary closed"))
        var intoSecondary = deferred
        intoSecondary.lane = .secondary
        try await store.record(intoSecondary, for: second, now: t0 + 3)

        let counts = try await store.counts()
        #expect(counts.byLane[.primary]?[.queued] == 1 && counts.byLane[.secondary]?[.queued] == 1)
        #expect(counts.byLane[.secondary]?[.deferred] == 1 && counts.unfinishedProjects[.secondary] == ["proj"])

        let secondary = try #require(try await store.claimNext(in: .secondary, now: t0 + 4, lease: .seconds(10)))
        #expect(secondary.job.id == jobs[0].id && secondary.job.lane == .secondary && secondary.job.attempts == 2)
        #expect(try await store.claimNext(in: .secondary, now: t0 + 5, lease: .seconds(10)) == nil, "the deferred job waits")
        let back = try await store.record(JobResult(.retry(reason: "PACS blinked"), retryAt: t0 + 10), for: secondary, now: t0 + 6)
        #expect(back.lane == .secondary, "a retry stays in its lane")
        #expect(try await store.claimNext(in: .primary, now: t0 + 3600, lease: .seconds(10))?.job.id == jobs[2].id)
        #expect(try await store.claimNext(in: .primary, now: t0 + 3600, lease: .seconds(10)) == nil)
        #expect(try await store.job(id: jobs[1].id)?.lane == .secondary)
    }

    /// Issue 13: within a priority, the first project of the order that has a due job is claimed from, else any project
    /// (earliest due, oldest); a higher priority still comes first.
    static func claimsFollowTheProjectOrder(_ store: some JobStore) async throws {
        let big = try await store.enqueue((0..<5).map { message($0, project: "big") }, now: t0).map(\.job)
        let small = try await store.enqueue((0..<2).map { message($0, project: "small") }, now: t0 + 1).map(\.job)
        var urgent = message(9, project: "big")
        urgent.priority = 3
        let urgentJob = try await store.enqueue([urgent], now: t0 + 2)[0].job
        func claim(_ order: [String]) async throws -> Job? {
            try await store.claimNext(in: .primary, projectOrder: order, now: t0 + 10, lease: .seconds(60))?.job
        }
        #expect(try await claim(["small", "big"])?.id == urgentJob.id, "priority comes before the project's turn")
        #expect(try await claim(["small", "big"])?.id == small[0].id)
        #expect(try await claim(["big", "small"])?.id == big[0].id)
        #expect(try await claim(["small"])?.id == small[1].id)
        #expect(try await claim(["small"])?.id == big[1].id, "a project without due jobs gives way to any other")
        #expect(try await claim(["nobody", "big"])?.id == big[2].id)
        #expect(try await claim([])?.id == big[3].id)
    }
}
