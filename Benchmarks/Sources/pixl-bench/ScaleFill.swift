import ArgumentParser
import Foundation
import GRDB
import Logging
import PixlCore
import PixlDatabase
import PostgresNIO

/// `pixl-bench scale-fill --jobs N` (scripts/bench --scale): brings the configured store (the environment's, as for
/// `serve`) to N jobs as a cohort waiting for the night looks: 94 % deferred to tomorrow, 5 % succeeded, 1 % discarded,
/// in four projects, created a millisecond apart. Jobs still queued from a previous
/// step are deferred first, so nothing is due. Rows are written by one INSERT … SELECT, not through the store's enqueue:
/// a million enqueued and deferred one by one would take an hour. The store's triggers keep its counts as for any write.
struct ScaleFillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scale-fill",
        abstract: "Fill the configured store to --jobs jobs, nearly all deferred (scripts/bench --scale)."
    )

    @Option(help: "Jobs the store holds afterwards.")
    var jobs: Int

    func run() async throws {
        guard (1...10_000_000).contains(jobs) else { throw ValidationError("--jobs must be from 1 to 10,000,000") }
        let configuration = try DatabaseConfiguration(environment: ProcessInfo.processInfo.environment)
        var logger = Logger(label: "pixl-bench.scale")
        logger.logLevel = .warning
        try await Database.migrate(configuration, logger: logger)
        let clock = ContinuousClock()
        let started = clock.now
        let tomorrow = Date().addingTimeInterval(86_400)
        let timestamp = ImagingMessage.synthetic.extractGeneratedTimestamp.description
        switch configuration.backend {
        case .sqlite(let path):
            let store = try SQLiteJobStore(path: path, logger: logger)
            try await store.pool.write { db in
                try db.execute(sql: "UPDATE imaging_job SET state = 'deferred', next_attempt_at = ? WHERE state = 'queued'", arguments: [tomorrow])
                let stored = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM imaging_job") ?? 0
                guard stored < jobs else { return }
                let base = try Int.fetchOne(db, sql: "SELECT IFNULL(MAX(seq), 0) FROM imaging_job") ?? 0
                try db.execute(
                    sql: """
                        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1),
                        g(s, i, age) AS (SELECT ?2 + i, i, printf('-%.3f seconds', (?1 - i) / 1000.0) FROM n)
                        INSERT INTO imaging_job (id, seq, mrn, accession_number, study_uid, series_uid, study_date, procedure_occurrence_id,
                            project_name, extract_generated_timestamp, priority, state, attempts, studies, created_at, updated_at,
                            next_attempt_at)
                        SELECT printf('00000000-5ca1-4000-8000-%012x', s), s, 'SCALE-M' || s, 'SA' || s, '1.2.826.0.1.9.' || s, '',
                            '2024-01-01', s, \(Self.project("s")), ?3, 1, \(Self.state("s")), 1, '[]',
                            strftime('%Y-%m-%d %H:%M:%f', 'now', age), strftime('%Y-%m-%d %H:%M:%f', 'now', age),
                            CASE WHEN \(Self.state("s")) = 'deferred' THEN ?4 END
                        FROM g
                        """,
                    arguments: [jobs - stored, base, timestamp, tomorrow]
                )
            }
        case .postgres(let server):
            let table = "\(configuration.schema).imaging_job"
            try await Database.withPostgresClient(server, retryFor: .seconds(30), logger: logger) { client in
                var binds = PostgresBindings()
                binds.append(tomorrow)
                try await client.query(
                    PostgresQuery(unsafeSQL: "UPDATE \(table) SET state = 'deferred', next_attempt_at = $1 WHERE state = 'queued'", binds: binds),
                    logger: logger
                )
                var stored = 0
                for try await count in try await client.query("SELECT COUNT(*) FROM \(unescaped: table)", logger: logger).decode(Int.self) {
                    stored = count
                }
                guard stored < jobs else { return }
                var fill = PostgresBindings()
                fill.append(Int64(stored + 1))
                fill.append(Int64(jobs))
                fill.append(timestamp)
                fill.append(tomorrow)
                try await client.query(
                    PostgresQuery(
                        unsafeSQL: """
                            INSERT INTO \(table) (id, mrn, accession_number, study_uid, series_uid, study_date, procedure_occurrence_id,
                                project_name, extract_generated_timestamp, priority, state, attempts, studies, created_at, updated_at,
                                next_attempt_at)
                            SELECT gen_random_uuid(), 'SCALE-M' || s, 'SA' || s, '1.2.826.0.1.9.' || s, '', DATE '2024-01-01', s,
                                \(Self.project("s")), $3, 1, \(Self.state("s")), 1, '[]',
                                now() - ($2 - s) * INTERVAL '1 millisecond', now() - ($2 - s) * INTERVAL '1 millisecond',
                                CASE WHEN \(Self.state("s")) = 'deferred' THEN $4::timestamptz END
                            FROM generate_series($1::bigint, $2::bigint) AS s
                            """,
                        binds: fill
                    ),
                    logger: logger
                )
                // What autovacuum would do soon after such a load: give the planner the table's statistics.
                try await client.query("ANALYZE \(unescaped: table)", logger: logger)
            }
        }
        print(#"{"jobs":\#(jobs),"fill_seconds":\#((clock.now - started).seconds)}"#)
    }

    static func project(_ n: String) -> String {
        "'scale-' || (\(n) % 4)"
    }

    static func state(_ n: String) -> String {
        "CASE WHEN \(n) % 20 = 0 THEN 'succeeded' WHEN \(n) % 100 = 1 THEN 'discarded' ELSE 'deferred' END"
    }
}

extension ImagingMessage {
    /// A message whose fields stand for the filled rows' (its extract timestamp as the store writes it).
    static let synthetic = ImagingMessage(
        mrn: "SCALE-M0", accessionNumber: "SA0", studyUID: "1.2.826.0.1.9.0", studyDate: CalendarDate(year: 2024, month: 1, day: 1)!,
        procedureOccurrenceID: 0, projectName: "scale-0",
        extractGeneratedTimestamp: ExtractTimestamp(date: CalendarDate(year: 2024, month: 2, day: 1)!, hour: 12)!
    )
}
