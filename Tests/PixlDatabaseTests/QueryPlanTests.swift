import Foundation
import PixlCore
import PixlTesting
import Testing

@testable import PixlDatabase

/// The store's reads and its claim are index seeks whatever the backlog (issue "Scale"): on a store of 20,000 jobs,
/// nearly all deferred, a third of them in the secondary lane, the plan of every statement the store runs to claim, to find the next due time, to count and
/// to list (each filter, each page direction) reads indexes only, and sorts nothing but the few rows of a selective
/// filter. A plan that scans the table and sorts it is what made a claim cost 257 ms at 500,000 deferred jobs.
enum QueryPlanScenarios {
    static let jobs = 20_000

    static func everyStatementSeeks(_ backend: Backend) async throws {
        try await TestDatabase.with(backend) { db in
            try await db.migrate()
            try await db.withStore { (store: any JobStore) async throws -> Void in
                for start in stride(from: 0, to: jobs, by: 5_000) {
                    _ = try await store.enqueue((start..<start + 5_000).map { message($0, project: $0 % 1000 == 7 ? "rare" : "p\($0 % 4)") }, now: Date())
                }
            }
            let tomorrow = backend == .postgres ? "now() + INTERVAL '1 day'" : "strftime('%Y-%m-%d %H:%M:%f', 'now', '+1 day')"
            try await db.execute(
                """
                UPDATE \(db.table("imaging_job")) SET state = CASE WHEN seq % 20 = 0 THEN 'succeeded' ELSE 'deferred' END,
                    next_attempt_at = CASE WHEN seq % 20 = 0 THEN NULL ELSE \(tomorrow) END,
                    lane = CASE WHEN seq % 3 = 0 THEN 'secondary' ELSE 'primary' END
                """
            )
            if backend == .postgres { try await db.execute("ANALYZE \(db.table("imaging_job"))") }

            for (name, sql) in statements(db) {
                let plan = try await db.rows((backend == .sqlite ? "EXPLAIN QUERY PLAN " : "EXPLAIN ") + sql).compactMap { $0.last ?? nil }
                let readsTheTable = plan.filter { line in
                    switch backend {
                    case .sqlite: line.hasPrefix("SCAN ") && !line.contains("USING INDEX") && !line.contains("USING COVERING INDEX")
                    case .postgres: line.contains("Seq Scan") && !line.contains("imaging_job_count")
                    }
                }
                let sorts = plan.filter { line in
                    switch backend {
                    case .sqlite: line.contains("TEMP B-TREE")
                    // PostgreSQL may sort the few rows of a selective filter (its statistics say how few) rather than
                    // read them in index order: a sort of many is what a missing index looks like.
                    case .postgres: line.contains("Sort  (") && estimatedRows(line) > 1_000
                    }
                }
                #expect(readsTheTable.isEmpty && sorts.isEmpty, "\(name):\n\(plan.joined(separator: "\n"))")
                if name == "claim" || name == "next due" {
                    #expect(plan.contains { $0.contains("ix_imaging_job_due") }, "\(name):\n\(plan.joined(separator: "\n"))")
                }
                if name == "claim" {
                    #expect(plan.contains { $0.contains("ix_imaging_job_share") }, "the fair share's seeks:\n\(plan.joined(separator: "\n"))")
                }
            }
        }
    }

    /// The `rows=` of a line of PostgreSQL's EXPLAIN.
    static func estimatedRows(_ line: String) -> Int {
        guard let range = line.range(of: "rows=") else { return 0 }
        return Int(line[range.upperBound...].prefix { $0.isNumber }) ?? 0
    }

    /// The statements, with their placeholders written as literals (EXPLAIN plans them as with those values).
    static func statements(_ db: TestDatabase) -> [(String, String)] {
        let table = db.table("imaging_job")
        let columns = db.backend == .postgres ? PostgresJobStore.columns : SQLiteJobStore.columns
        let literal: (JobSQL.Argument) -> String = { argument in
            switch argument {
            case .text(let text): "'\(text)'"
            case .integer(let integer): "\(integer)"
            case .date(let date):
                db.backend == .postgres
                    ? "'\(ISO8601DateFormatter().string(from: date))'::timestamptz"
                    : "'\(ISO8601DateFormatter().string(from: date).replacingOccurrences(of: "T", with: " ").dropLast()).000'"
            }
        }
        let now = JobSQL.Argument.date(Date())
        let locking = db.backend == .postgres ? "FOR UPDATE SKIP LOCKED" : ""
        var statements: [(String, String)] = []
        for lane in Lane.allCases {
            // Two projects in the fair share's order, then any project.
            let claimArguments = [now, now, .text(UUID().uuidString.lowercased()), .text(lane.rawValue), .text("rare"), .text("p1")]
            statements.append(("claim", JobSQL.claim(table: table, columns: columns, projects: 2, locking: locking) { literal(claimArguments[$0 - 1]) }))
            statements.append(("next due", JobSQL.nextDue(table: table) { _ in literal(.text(lane.rawValue)) }))
        }
        // The operator's batches (issue 14), on a project of a few jobs. For one holding a quarter of the table, nearly all
        // waiting, PostgreSQL rightly reads the table in order and stops at the batch's thousandth match (a LIMIT).
        let batch: [JobSQL.Argument] = [.text("rare"), now, .integer(1000)]
        let inBatch = JobSQL.batchCondition(db.backend == .postgres ? .postgres : .sqlite)
        statements.append(("retry failed", JobSQL.retryFailed(table: table, inBatch: inBatch) { literal(batch[$0 - 1]) }))
        statements.append(("cancel waiting", JobSQL.cancelWaiting(table: table, locking: locking, inBatch: inBatch) { literal(batch[$0 - 1]) }))
        let filters = [
            JobFilter(), JobFilter(state: .failed), JobFilter(project: "rare"), JobFilter(state: .deferred, project: "rare"),
            JobFilter(createdSince: Date(timeIntervalSinceNow: -60)), JobFilter(state: .deferred, createdUntil: Date()),
            JobFilter(project: "p1", createdSince: Date(timeIntervalSinceNow: -60), createdUntil: Date()),
        ]
        for filter in filters {
            for start in [PageStart.newest, .oldest, .olderThan(JobCursor(position: 10_000)), .newerThan(JobCursor(position: 10_000))] {
                var listing = JobSQL.listing(table: table, columns: columns, filter: filter, start: start, limit: 100) { "{\($0)}" }
                for (index, argument) in listing.arguments.enumerated().reversed() {
                    listing.sql = listing.sql.replacingOccurrences(of: "{\(index + 1)}", with: literal(argument))
                }
                statements.append(("listing \(filter) from \(start)", listing.sql))
            }
        }
        return statements
    }
}

@Suite("Query plans on SQLite")
struct SQLiteQueryPlanTests {
    @Test func everyStatementSeeks() async throws { try await QueryPlanScenarios.everyStatementSeeks(.sqlite) }
}

@Suite("Query plans on PostgreSQL", .enabled(if: LiveService.postgres.isEnabled, LiveService.postgres.skipMessage))
struct PostgresQueryPlanTests {
    @Test func everyStatementSeeks() async throws { try await QueryPlanScenarios.everyStatementSeeks(.postgres) }
}
