import Foundation
import PixlCore
import PixlTesting
import Testing

@testable import PixlDatabase

/// What only the SQL stores do (the rest is ``JobStoreConformance``), on both backends.
enum StoreScenarios {
    static let t0 = Date(timeIntervalSince1970: 1_750_000_000)

    static func conforms(_ check: JobStoreConformance.Check, _ backend: Backend) async throws {
        try await TestDatabase.with(backend) { db in
            try await db.migrate()
            try await db.withStore { try await JobStoreConformance.run(check, on: $0) }
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
                #expect(try await store.counts().byState.values.reduce(0, +) == 0)
                // The store is still usable.
                #expect(try await store.enqueue([message(1)], now: t0).count == 1)
            }
        }
    }

    /// Jobs stored before `pixl_imaging_0002` keep their rows through the upgrades, at the default priority; the deferred
    /// one (waiting for the secondary's window, the only deferral there was) lands in the secondary lane
    /// (`pixl_imaging_0004`), and the counts count them per lane.
    static func jobsFromBeforePriorityAreKept(_ backend: Backend) async throws {
        try await TestDatabase.with(backend) { db in
            try await db.migrate(to: "pixl_imaging_0001")
            let (queued, deferred) = (UUID(), UUID())
            for (index, id, state, next) in [(1, queued, "queued", "NULL"), (2, deferred, "deferred", "'2025-01-01 01:00:00'")] {
                try await db.execute(
                    """
                    INSERT INTO \(db.table("imaging_job")) (id, \(backend == .sqlite ? "seq, " : "")mrn, accession_number, study_uid, series_uid,
                        study_date, procedure_occurrence_id, project_name, extract_generated_timestamp, state, attempts, studies, created_at,
                        updated_at, next_attempt_at)
                    VALUES ('\(id.uuidString.lowercased())', \(backend == .sqlite ? "\(index), " : "")'M', 'A\(index)', '1.2.3.\(index)', '',
                        '2024-01-02', 7, 'proj', '2024-01-02T03:04:05+00:00', '\(state)', 0, '[]', '2025-01-01 00:00:00',
                        '2025-01-01 00:00:00', \(next))
                    """
                )
            }
            try await db.migrate()
            try await db.withStore { (store: any JobStore) async throws -> Void in
                let job = try #require(try await store.job(id: queued))
                #expect(job.message.priority == 1 && job.state == .queued && job.lane == .primary)
                #expect(try await store.job(id: deferred)?.lane == .secondary)
                let counts = try await store.counts()
                #expect(counts.byProject == ["proj": [.queued: 1, .deferred: 1]], "the migrations count the rows they find")
                #expect(counts.byLane == [.primary: [.queued: 1], .secondary: [.deferred: 1]])
                #expect(try await store.claimNext(in: .primary, now: Date(), lease: .seconds(30))?.job.id == queued)
                #expect(try await store.claimNext(in: .secondary, now: Date(), lease: .seconds(30))?.job.id == deferred)
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
    @Test(arguments: JobStoreConformance.Check.allCases)
    func conforms(_ check: JobStoreConformance.Check) async throws { try await StoreScenarios.conforms(check, .sqlite) }
    @Test func failingBatchWritesNothing() async throws { try await StoreScenarios.failingBatchWritesNothing(.sqlite) }
    @Test func unmigratedDatabaseFails() async throws { try await StoreScenarios.unmigratedDatabaseFails(.sqlite) }
    @Test func jobsFromBeforePriorityAreKept() async throws { try await StoreScenarios.jobsFromBeforePriorityAreKept(.sqlite) }

    @Test func usesWAL() async throws {
        try await TestDatabase.with(.sqlite) { db in
            try await db.migrate()
            #expect(try await db.scalar("PRAGMA journal_mode") == "wal")
        }
    }
}

@Suite("Job store on PostgreSQL", .enabled(if: LiveService.postgres.isEnabled, LiveService.postgres.skipMessage))
struct PostgresJobStoreTests {
    @Test(arguments: JobStoreConformance.Check.allCases)
    func conforms(_ check: JobStoreConformance.Check) async throws { try await StoreScenarios.conforms(check, .postgres) }
    @Test func failingBatchWritesNothing() async throws { try await StoreScenarios.failingBatchWritesNothing(.postgres) }
    @Test func unmigratedDatabaseFails() async throws { try await StoreScenarios.unmigratedDatabaseFails(.postgres) }
    @Test func jobsFromBeforePriorityAreKept() async throws { try await StoreScenarios.jobsFromBeforePriorityAreKept(.postgres) }
}
