import Foundation
import PixlCore
import PixlTesting
import Testing

@testable import PixlDatabase

/// Store behaviour shared by both backends.
enum StoreScenarios {
    static let t0 = Date(timeIntervalSince1970: 1_750_000_000)

    static func enqueueDeduplicates(_ backend: Backend) async throws {
        try await TestDatabase.with(backend) { db in
            try await db.migrate()
            try await db.withStore { (store: any JobStore) async throws -> Void in
                let first = try await store.enqueue([message(1), message(2), message(1)], now: t0)
                #expect(first.map(\.isNew) == [true, true, false])
                #expect(first[2].job.id == first[0].job.id)
                #expect(first[0].job.message == message(1))
                #expect(first[0].job.state == .queued)
                #expect(first[0].job.attempts == 0)

                // Later, still unfinished: the same job, also once claimed.
                let again = try await store.enqueue([message(1)], now: t0 + 5)
                #expect(again[0].isNew == false && again[0].job.id == first[0].job.id)
                let claimed = try #require(try await store.claimNext(now: t0 + 6, lease: .seconds(30)))
                #expect(claimed.id == first[0].job.id)
                #expect(try await store.enqueue([message(1)], now: t0 + 7)[0].job.id == first[0].job.id)

                // Another series, or another project, is another job.
                #expect(try await store.enqueue([message(1, series: "1.2.3.1.1\\1.2.3.1.2")], now: t0 + 8)[0].isNew)
                #expect(try await store.enqueue([message(1, project: "other")], now: t0 + 8)[0].isNew)

                // Once finished, an identical message is new work.
                try await store.record(.succeeded(archive: .local, orthancIDs: ["abc"]), for: claimed.id, now: t0 + 9)
                let afterFinish = try await store.enqueue([message(1)], now: t0 + 10)
                #expect(afterFinish[0].isNew && afterFinish[0].job.id != claimed.id)
                #expect(try await store.countsByState()[.queued] == 4)
            }
        }
    }

    static func claimLifecycle(_ backend: Backend) async throws {
        try await TestDatabase.with(backend) { db in
            try await db.migrate()
            try await db.withStore { (store: any JobStore) async throws -> Void in
                #expect(try await store.claimNext(now: t0, lease: .seconds(30)) == nil)
                #expect(try await store.nextDueDate() == nil)
                let jobs = try await store.enqueue((1...3).map { message($0) }, now: t0).map(\.job)
                #expect(try await store.nextDueDate().map { abs($0.timeIntervalSince(t0)) < 0.01 } == true)

                // Oldest first (insertion order within a batch), attempts counted, lease set.
                let a = try #require(try await store.claimNext(now: t0 + 1, lease: .seconds(30)))
                #expect(a.id == jobs[0].id && a.state == .inProgress && a.attempts == 1)
                let b = try #require(try await store.claimNext(now: t0 + 1, lease: .seconds(30)))
                #expect(b.id == jobs[1].id)

                // Retry: not due before its time, due after.
                let retried = try await store.record(.retry(reason: "Orthanc unavailable"), retryAt: t0 + 62, for: a.id, now: t0 + 2)
                #expect(retried.state == .retry && retried.reason == "Orthanc unavailable")
                #expect(retried.nextAttemptAt.map { abs($0.timeIntervalSince(t0 + 62)) < 0.01 } == true)
                let c = try #require(try await store.claimNext(now: t0 + 3, lease: .seconds(30)))
                #expect(c.id == jobs[2].id)
                #expect(try await store.claimNext(now: t0 + 3, lease: .seconds(30)) == nil)
                #expect(try await store.nextDueDate().map { abs($0.timeIntervalSince(t0 + 31)) < 0.01 } == true)  // b's lease
                let again = try #require(try await store.claimNext(now: t0 + 62, lease: .seconds(30)))
                #expect(again.id == a.id && again.attempts == 2 && again.nextAttemptAt == nil)

                // Final outcomes clear the lease; archive and studies are kept.
                let done = try await store.record(.succeeded(archive: .secondary, orthancIDs: ["s1", "s2"]), for: a.id, now: t0 + 64)
                #expect(done.state == .succeeded && done.archive == .secondary && done.studies == ["s1", "s2"] && done.reason == nil)
                let discarded = try await store.record(.discarded(reason: "not found", archive: nil), for: c.id, now: t0 + 65)
                #expect(discarded.state == .discarded && discarded.reason == "not found" && discarded.studies.isEmpty)

                // Deferred until a time.
                try await store.record(.deferred(until: t0 + 3600, reason: "outside query window"), for: b.id, now: t0 + 66)
                #expect(try await store.claimNext(now: t0 + 3599, lease: .seconds(3000)) == nil)
                #expect(try await store.nextDueDate().map { abs($0.timeIntervalSince(t0 + 3600)) < 0.01 } == true)

                // Release puts a claimed job back without counting the attempt.
                let deferredDue = try #require(try await store.claimNext(now: t0 + 3600, lease: .seconds(30)))
                #expect(deferredDue.id == b.id && deferredDue.attempts == 2)
                try await store.release(b.id, now: t0 + 3601)
                let released = try #require(try await store.job(id: b.id))
                #expect(released.state == .queued && released.attempts == 1)
                await #expect(throws: DatabaseError.self) { try await store.release(b.id, now: t0 + 3602) }

                // Lease renewal keeps others off.
                let d = try #require(try await store.claimNext(now: t0 + 4000, lease: .seconds(10)))
                try await store.renewLease(of: d.id, now: t0 + 4005, lease: .seconds(60))
                #expect(try await store.claimNext(now: t0 + 4020, lease: .seconds(10)) == nil)
                #expect(try await store.claimNext(now: t0 + 4066, lease: .seconds(10))?.id == d.id)

                let unknown = await #expect(throws: DatabaseError.self) {
                    try await store.record(.failed(error: "x"), for: UUID(), now: t0)
                }
                #expect(unknown?.code == .jobNotFound)
                #expect(try await store.job(id: UUID()) == nil)
            }
        }
    }

    static func listingAndCounts(_ backend: Backend) async throws {
        try await TestDatabase.with(backend) { db in
            try await db.migrate()
            try await db.withStore { (store: any JobStore) async throws -> Void in
                var ids: [UUID] = []
                for index in 0..<6 {
                    let project = index.isMultiple(of: 2) ? "even" : "odd"
                    ids.append(try await store.enqueue([message(index, project: project)], now: t0 + Double(index))[0].job.id)
                }
                let claimed = try #require(try await store.claimNext(now: t0 + 10, lease: .seconds(30)))
                try await store.record(.failed(error: "boom"), for: claimed.id, now: t0 + 11)

                #expect(try await store.jobs(state: nil, project: nil, limit: 10, before: nil).map(\.id) == ids.reversed())
                #expect(try await store.jobs(state: nil, project: "even", limit: 10, before: nil).map(\.id) == [ids[4], ids[2], ids[0]])
                #expect(try await store.jobs(state: .queued, project: "even", limit: 10, before: nil).map(\.id) == [ids[4], ids[2]])
                #expect(try await store.jobs(state: nil, project: nil, limit: 2, before: nil).map(\.id) == [ids[5], ids[4]])
                #expect(try await store.jobs(state: nil, project: nil, limit: 2, before: t0 + 4).map(\.id) == [ids[3], ids[2]])
                #expect(try await store.jobs(state: .failed, project: nil, limit: 10, before: nil).first?.reason == "boom")

                let counts = try await store.countsByState()
                #expect(counts[.queued] == 5 && counts[.failed] == 1 && counts[.succeeded] == 0)
                #expect(counts.count == JobState.allCases.count)

                // Round trip of every message field.
                let job = try #require(try await store.job(id: ids[3]))
                #expect(job.message == message(3, project: "odd"))
                #expect(abs(job.createdAt.timeIntervalSince(t0 + 3)) < 0.01)
            }
        }
    }

    /// A batch with a row the database refuses (empty project name, a CHECK constraint) leaves nothing written.
    static func failingBatchWritesNothing(_ backend: Backend) async throws {
        try await TestDatabase.with(backend) { db in
            try await db.migrate()
            try await db.withStore { (store: any JobStore) async throws -> Void in
                var batch = (0..<10).map { message($0) }
                batch[7].projectName = ""
                await #expect(throws: (any Error).self) { try await store.enqueue(batch, now: t0) }
                #expect(try await store.countsByState().values.reduce(0, +) == 0)
                // The store is still usable.
                #expect(try await store.enqueue([message(1)], now: t0).count == 1)
            }
        }
    }

    static func unmigratedDatabaseFails(_ backend: Backend) async throws {
        try await TestDatabase.with(backend) { db in
            try await db.migrate(to: Revisions.pixlHead)
            try await db.withStore { (store: any JobStore) async throws -> Void in
                await #expect(throws: (any Error).self) { try await store.enqueue([message(1)], now: t0) }
            }
        }
    }
}

@Suite("Job store on SQLite")
struct SQLiteJobStoreTests {
    @Test func enqueueDeduplicates() async throws { try await StoreScenarios.enqueueDeduplicates(.sqlite) }
    @Test func claimLifecycle() async throws { try await StoreScenarios.claimLifecycle(.sqlite) }
    @Test func listingAndCounts() async throws { try await StoreScenarios.listingAndCounts(.sqlite) }
    @Test func failingBatchWritesNothing() async throws { try await StoreScenarios.failingBatchWritesNothing(.sqlite) }
    @Test func unmigratedDatabaseFails() async throws { try await StoreScenarios.unmigratedDatabaseFails(.sqlite) }

    @Test func usesWAL() async throws {
        try await TestDatabase.with(.sqlite) { db in
            try await db.migrate()
            #expect(try await db.scalar("PRAGMA journal_mode") == "wal")
        }
    }
}

@Suite("Job store on PostgreSQL", .enabled(if: TestPostgres.server != nil, TestPostgres.skipMessage))
struct PostgresJobStoreTests {
    @Test func enqueueDeduplicates() async throws { try await StoreScenarios.enqueueDeduplicates(.postgres) }
    @Test func claimLifecycle() async throws { try await StoreScenarios.claimLifecycle(.postgres) }
    @Test func listingAndCounts() async throws { try await StoreScenarios.listingAndCounts(.postgres) }
    @Test func failingBatchWritesNothing() async throws { try await StoreScenarios.failingBatchWritesNothing(.postgres) }
    @Test func unmigratedDatabaseFails() async throws { try await StoreScenarios.unmigratedDatabaseFails(.postgres) }
}
