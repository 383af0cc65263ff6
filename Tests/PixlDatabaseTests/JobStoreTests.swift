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

    /// A job stored before `pixl_imaging_0002` keeps its row through the upgrade, at the default priority.
    static func jobsFromBeforePriorityAreKept(_ backend: Backend) async throws {
        try await TestDatabase.with(backend) { db in
            try await db.migrate(to: "pixl_imaging_0001")
            let id = UUID()
            let seq = backend == .sqlite ? "seq, " : ""
            try await db.execute(
                """
                INSERT INTO \(db.table("imaging_job")) (id, \(seq)mrn, accession_number, study_uid, series_uid, study_date,
                    procedure_occurrence_id, project_name, extract_generated_timestamp, state, attempts, studies, created_at, updated_at)
                VALUES ('\(id.uuidString.lowercased())', \(backend == .sqlite ? "1, " : "")'M', 'A', '1.2.3', '', '2024-01-02', 7, 'proj',
                    '2024-01-02T03:04:05+00:00', 'queued', 0, '[]', '2025-01-01 00:00:00', '2025-01-01 00:00:00')
                """
            )
            try await db.migrate()
            try await db.withStore { (store: any JobStore) async throws -> Void in
                let job = try #require(try await store.job(id: id))
                #expect(job.message.priority == 1 && job.state == .queued)
                #expect(try await store.counts().byProject == ["proj": [.queued: 1]], "pixl_imaging_0003 counts the rows it finds")
                #expect(try await store.claimNext(now: Date(), lease: .seconds(30))?.job.id == id)
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
