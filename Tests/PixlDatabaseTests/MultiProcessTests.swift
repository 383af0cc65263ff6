import Foundation
import PixlCore
import PixlTesting
import Testing

@testable import PixlDatabase

/// Crash and concurrency scenarios with real OS processes (`pixl-imaging store`), shared by both backends.
enum MultiProcessScenarios {
    /// Two processes drain 1,000 jobs at once: every job is claimed exactly once and none is lost.
    static func twoProcessesClaimEachJobOnce(_ backend: Backend) async throws {
        try await TestDatabase.with(backend) { db in
            try await db.migrate()
            let jobs = 1000
            let ids = try await db.withStore { store in
                var ids: Set<UUID> = []
                for start in stride(from: 0, to: jobs, by: 100) {
                    let batch = (start..<start + 100).map { message($0) }
                    ids.formUnion(try await store.enqueue(batch, now: Date()).map(\.job.id))
                }
                return ids
            }
            #expect(ids.count == jobs)

            let workers = try (0..<2).map { _ in
                try StoreProcess(["claim-all", "--lease-seconds", "300"], environment: db.environment)
            }
            for worker in workers { #expect(try await worker.waitForExit() == 0) }
            let claimedLists = workers.map { $0.outputLines.filter { $0 != "done" }.compactMap(UUID.init(uuidString:)) }
            let claimed = claimedLists.flatMap { $0 }
            #expect(claimed.count == jobs, "claimed \(claimed.count) times for \(jobs) jobs")
            #expect(Set(claimed) == ids, "a job was claimed twice or never")
            // Both took part (not a proof of overlap, but the usual case with 1,000 jobs).
            #expect(claimedLists.allSatisfy { !$0.isEmpty }, "claims per process: \(claimedLists.map(\.count))")

            try await db.withStore { (store: any JobStore) async throws -> Void in
                #expect(try await store.counts().byState[.succeeded] == jobs)
                #expect(try await store.jobs(matching: JobFilter(state: .succeeded), from: .newest, limit: jobs).jobs.allSatisfy { $0.attempts == 1 })
            }
        }
    }

    /// A process killed with SIGKILL while holding a claim: the job stays in progress until the lease ends, then is
    /// claimable again, with the lost attempt counted.
    static func leaseExpiresAfterKill(_ backend: Backend) async throws {
        try await TestDatabase.with(backend) { db in
            try await db.migrate()
            let job = try await db.withStore { try await $0.enqueue([message(1)], now: Date())[0].job }

            let holder = try StoreProcess(["claim-one", "--lease-seconds", "2"], environment: db.environment)
            let line = try await holder.waitForLine { UUID(uuidString: $0) != nil || $0 == "none" }
            #expect(line.flatMap(UUID.init(uuidString:)) == job.id)
            holder.killHard()
            _ = try await holder.waitForExit()
            #expect(holder.process.terminationReason == .uncaughtSignal)

            try await db.withStore { (store: any JobStore) async throws -> Void in
                let held = try #require(try await store.job(id: job.id))
                #expect(held.state == .inProgress && held.attempts == 1)
                #expect(try await store.claimNext(in: .primary, now: Date(), lease: .seconds(30)) == nil, "claimed while the lease held")
                let afterLease = Date().addingTimeInterval(2.5)
                let reclaimed = try #require(try await store.claimNext(in: .primary, now: afterLease, lease: .seconds(30)), "job lost after the lease")
                #expect(reclaimed.job.id == job.id && reclaimed.job.attempts == 2)
            }
        }
    }

    /// A process killed with SIGKILL in the middle of a large enqueue batch leaves no row of it behind.
    static func killedEnqueueWritesNothing(_ backend: Backend) async throws {
        try await TestDatabase.with(backend) { db in
            try await db.migrate()
            let count = 200_000
            let writer = try StoreProcess(["enqueue", "--count", String(count), "--batch", String(count)], environment: db.environment)
            #expect(try await writer.waitForLine { $0 == "started" } != nil)
            try await Task.sleep(for: .milliseconds(400))
            writer.killHard()
            _ = try await writer.waitForExit()
            #expect(!writer.outputLines.contains { $0.hasPrefix("enqueued") }, "the batch finished before the kill: raise count")

            try await db.withStore { (store: any JobStore) async throws -> Void in
                #expect(try await store.counts().byState.values.reduce(0, +) == 0)
                #expect(try await store.enqueue([message(1)], now: Date()).first?.isNew == true)
            }
        }
    }
}

@Suite("Job store across processes on SQLite", .serialized)
struct SQLiteMultiProcessTests {
    @Test(.timeLimit(.minutes(3))) func twoProcessesClaimEachJobOnce() async throws {
        try await MultiProcessScenarios.twoProcessesClaimEachJobOnce(.sqlite)
    }
    @Test(.timeLimit(.minutes(1))) func leaseExpiresAfterKill() async throws {
        try await MultiProcessScenarios.leaseExpiresAfterKill(.sqlite)
    }
    @Test(.timeLimit(.minutes(2))) func killedEnqueueWritesNothing() async throws {
        try await MultiProcessScenarios.killedEnqueueWritesNothing(.sqlite)
    }
}

@Suite("Job store across processes on PostgreSQL", .serialized, .enabled(if: LiveService.postgres.isEnabled, LiveService.postgres.skipMessage))
struct PostgresMultiProcessTests {
    @Test(.timeLimit(.minutes(3))) func twoProcessesClaimEachJobOnce() async throws {
        try await MultiProcessScenarios.twoProcessesClaimEachJobOnce(.postgres)
    }
    @Test(.timeLimit(.minutes(1))) func leaseExpiresAfterKill() async throws {
        try await MultiProcessScenarios.leaseExpiresAfterKill(.postgres)
    }
    @Test(.timeLimit(.minutes(2))) func killedEnqueueWritesNothing() async throws {
        try await MultiProcessScenarios.killedEnqueueWritesNothing(.postgres)
    }
}
