public import Foundation
public import GRDB
public import Logging
public import PixlCore

/// The job store on an embedded SQLite file (GRDB `DatabasePool`, WAL journal).
///
/// Several processes may share the file: writes are `IMMEDIATE` transactions, so a claim is a single
/// serialised read-modify-write and a job is never handed to two callers. Contended writers wait up to
/// ``Configuration/busyTimeout``.
///
/// ```swift
/// let store = try SQLiteJobStore(path: "pixl-imaging.sqlite", logger: logger)
/// try await store.migrate(logger: logger)
/// let jobs = try await store.enqueue(messages, now: .now)
/// ```
public final class SQLiteJobStore: JobStore {
    /// Connection settings.
    public struct Configuration: Sendable {
        /// How long a write waits for another process's write lock. Default 10 s.
        public var busyTimeout: Duration
        /// Readers in the pool. Default 4.
        public var maximumReaderCount: Int

        public init(busyTimeout: Duration = .seconds(10), maximumReaderCount: Int = 4) {
            self.busyTimeout = busyTimeout
            self.maximumReaderCount = maximumReaderCount
        }
    }

    // MARK: Member variables

    /// The underlying pool, for tests and tools.
    public let pool: DatabasePool
    private let logger: Logger

    // MARK: Initialization

    /// Opens (creating if need be) the SQLite file at `path` in WAL mode. Does not migrate: call ``migrate(to:logger:)``.
    /// - Throws: ``DatabaseError/Code/invalidConfiguration`` naming PIXL_DB_PATH when the file cannot be opened.
    public init(path: String, configuration: Configuration = .init(), logger: Logger) throws {
        var config = GRDB.Configuration()
        config.busyMode = .timeout(configuration.busyTimeout.seconds)
        config.maximumReaderCount = configuration.maximumReaderCount
        config.label = "pixl-imaging"
        do {
            self.pool = try DatabasePool(path: path, configuration: config)
        } catch {
            let reason = (error as? GRDB.DatabaseError)?.message ?? "\(error)"
            throw DatabaseError(.invalidConfiguration, "PIXL_DB_PATH '\(path)' cannot be opened as an SQLite database: \(reason)", underlying: error)
        }
        self.logger = logger
    }

    // MARK: Migrations

    /// The revision recorded in `alembic_version`, or `nil` for an empty database.
    public func currentRevision() async throws -> String? {
        try await migrationDriver.versions()?.first
    }

    /// Upgrades the database to `target` (`nil`: head), one transaction per revision (see ``Migrator``).
    @discardableResult
    public func migrate(to target: String? = nil, logger: Logger) async throws -> MigrationReport {
        try await Migrator(driver: migrationDriver).upgrade(to: target, logger: logger)
    }

    private var migrationDriver: SQLiteMigrationDriver { SQLiteMigrationDriver(pool: pool) }

    // MARK: JobStore

    public func enqueue(_ messages: [ImagingMessage], now: Date) async throws -> [EnqueuedJob] {
        try await pool.write { db in
            // Prepared once per connection and reused for every row: statement compilation, not I/O, is what
            // a batch costs on SQLite.
            let findUnfinished = try db.cachedStatement(
                sql: """
                    SELECT \(Self.columns) FROM imaging_job
                    WHERE project_name = ? AND mrn = ? AND accession_number = ? AND study_uid = ? AND series_uid = ?
                      AND state IN \(JobSQL.unfinishedStates)
                    ORDER BY seq LIMIT 1
                    """
            )
            let insert = try db.cachedStatement(
                sql: """
                    INSERT INTO imaging_job (id, seq, mrn, accession_number, study_uid, series_uid, study_date,
                        procedure_occurrence_id, project_name, extract_generated_timestamp, priority, traceparent, tracestate, state,
                        attempts, studies, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', 0, '[]', ?, ?)
                    """
            )
            // The write transaction is serialised, so the batch can number its rows from the current maximum.
            var seq = try Int64.fetchOne(db, sql: "SELECT IFNULL(MAX(seq), 0) FROM imaging_job") ?? 0
            var results: [EnqueuedJob] = []
            results.reserveCapacity(messages.count)
            for message in messages {
                let identity: StatementArguments = [
                    message.projectName, message.mrn, message.accessionNumber, message.studyUID, message.seriesUID,
                ]
                if let row = try Row.fetchOne(findUnfinished, arguments: identity) {
                    results.append(EnqueuedJob(job: try Self.job(row), isNew: false))
                    continue
                }
                seq += 1
                let id = UUID()
                try insert.execute(arguments: [
                    Self.key(id), seq, message.mrn, message.accessionNumber, message.studyUID, message.seriesUID,
                    message.studyDate.description, message.procedureOccurrenceID, message.projectName,
                    message.extractGeneratedTimestamp.description, message.priority, message.traceContext?.traceparent,
                    message.traceContext?.tracestate, now, now,
                ])
                let job = Job(id: id, message: message, state: .queued, createdAt: now, updatedAt: now)
                results.append(EnqueuedJob(job: job, isNew: true))
            }
            return results
        }
    }

    public func claimNext(in lane: Lane, projectOrder: [String], now: Date, lease: Duration) async throws -> Claim? {
        let leaseEnd = now.addingTimeInterval(lease.seconds)
        let token = UUID()
        let projects = projectOrder.prefix(JobSQL.maximumProjectOrder)
        let arguments = StatementArguments([now, leaseEnd, Self.key(token), lane.rawValue] as [any DatabaseValueConvertible]) + StatementArguments(Array(projects))
        return try await pool.write { db in
            let claim = try db.cachedStatement(
                sql: JobSQL.claim(table: "imaging_job", columns: Self.columns, projects: projects.count, locking: "", placeholder: Self.placeholder)
            )
            return try Row.fetchOne(claim, arguments: arguments).map { Claim(job: try Self.job($0), token: token) }
        }
    }

    public func renewLease(of claim: Claim, now: Date, lease: Duration) async throws {
        let leaseEnd = now.addingTimeInterval(lease.seconds)
        try await updateClaimed(claim, sql: "UPDATE imaging_job SET lease_expires_at = ?, updated_at = ?", arguments: [leaseEnd, now])
    }

    @discardableResult
    public func record(_ result: JobResult, for claim: Claim, now: Date) async throws -> Job {
        let job = try await pool.write { db in
            try Row.fetchOne(
                db,
                sql: """
                    UPDATE imaging_job
                    SET state = ?, reason = ?, archive = COALESCE(?, archive), lane = COALESCE(?, lane),
                        study_records = COALESCE(?, study_records),
                        next_attempt_at = ?, lease_expires_at = NULL, lease_token = NULL, updated_at = ?
                    WHERE \(Self.heldBy)
                    RETURNING \(Self.columns)
                    """,
                arguments: [
                    result.state.rawValue, result.reason, result.archive?.rawValue, result.lane?.rawValue,
                    result.studies.map(JobSQL.studyRecordsJSON),
                    result.nextAttemptAt, now, Self.key(claim.job.id), Self.key(claim.token),
                ]
            ).map(Self.job)
        }
        guard let job else { throw JobStoreError(.leaseLost, jobID: claim.job.id) }
        return job
    }

    public func release(_ claim: Claim, now: Date) async throws {
        try await updateClaimed(
            claim,
            sql: """
                UPDATE imaging_job
                SET state = 'queued', attempts = MAX(attempts - 1, 0), lease_expires_at = NULL, lease_token = NULL, next_attempt_at = NULL,
                    updated_at = ?
                """,
            arguments: [now]
        )
    }

    /// The condition that the job is held by a claim: its id and token (two placeholders).
    private static let heldBy = "id = ? AND lease_token = ? AND state = 'in_progress'"

    /// Runs `sql` (an UPDATE without WHERE) on the claimed job if the claim is still its current one.
    private func updateClaimed(_ claim: Claim, sql: String, arguments: StatementArguments) async throws {
        let changed = try await pool.write { db in
            try db.execute(sql: sql + " WHERE \(Self.heldBy)", arguments: arguments + [Self.key(claim.job.id), Self.key(claim.token)])
            return db.changesCount
        }
        if changed == 0 { throw JobStoreError(.leaseLost, jobID: claim.job.id) }
    }

    public func retryFailed(project: String, now: Date, limit: Int) async throws -> Int {
        try await pool.write { db in
            try db.execute(sql: JobSQL.retryFailed(table: "imaging_job", inBatch: JobSQL.batchCondition(.sqlite), placeholder: Self.placeholder), arguments: [project, now, limit])
            return db.changesCount
        }
    }

    public func cancelWaiting(project: String, now: Date, limit: Int) async throws -> Int {
        try await pool.write { db in
            try db.execute(sql: JobSQL.cancelWaiting(
                    table: "imaging_job", locking: "", inBatch: JobSQL.batchCondition(.sqlite), placeholder: Self.placeholder
                ), arguments: [project, now, limit])
            return db.changesCount
        }
    }

    public func job(id: UUID) async throws -> Job? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.columns) FROM imaging_job WHERE id = ?", arguments: [Self.key(id)]).map(Self.job)
        }
    }

    public func latestJob(for identity: ImagingMessage.Identity) async throws -> Job? {
        try await pool.read { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT \(Self.columns) FROM imaging_job
                    WHERE project_name = ? AND mrn = ? AND accession_number = ? AND study_uid = ? AND series_uid = ?
                    ORDER BY seq DESC LIMIT 1
                    """,
                arguments: [identity.projectName, identity.mrn, identity.accessionNumber, identity.studyUID, identity.seriesUID]
            ).map(Self.job)
        }
    }

    public func jobs(matching filter: JobFilter, from start: PageStart, limit: Int) async throws -> JobPage {
        let statement = JobSQL.listing(
            table: "imaging_job", columns: Self.columns, filter: filter, start: start, limit: limit, placeholder: Self.placeholder
        )
        let arguments = StatementArguments(statement.arguments.map { Self.databaseValue($0) as (any DatabaseValueConvertible)? })
        let rows = try await pool.read { db in
            try Row.fetchAll(db, sql: statement.sql, arguments: arguments).map { row in
                (job: try Self.job(row), cursor: JobCursor(position: row["seq"]))
            }
        }
        return JobPage(fetched: rows, limit: limit, start: start)
    }

    public func counts() async throws -> JobCounts {
        try await pool.read { db in
            var counts = JobCounts()
            for row in try Row.fetchAll(db, sql: JobSQL.counts(table: "imaging_job_count")) {
                guard let lane = Lane(rawValue: row["lane"]), let state = JobState(rawValue: row["state"]) else { continue }
                counts.add(row["jobs"], project: row["project_name"], lane: lane, state: state)
            }
            return counts
        }
    }

    public func ping() async throws {
        _ = try await pool.read { db in try Int.fetchOne(db, sql: "SELECT 1 FROM imaging_job LIMIT 1") }
    }

    public func nextDueDate(in lane: Lane) async throws -> Date? {
        try await pool.read { db in
            try Date.fetchOne(db, sql: JobSQL.nextDue(table: "imaging_job", placeholder: Self.placeholder), arguments: [lane.rawValue])
        }
    }

    // MARK: Row mapping

    /// SQLite's numbered placeholder, usable several times in one statement.
    static func placeholder(_ n: Int) -> String { "?\(n)" }

    static func databaseValue(_ argument: JobSQL.Argument) -> any DatabaseValueConvertible {
        switch argument {
        case .text(let text): text
        case .date(let date): date
        case .integer(let integer): integer
        }
    }

    /// `id` is stored as lower-case text.
    static func key(_ id: UUID) -> String { id.uuidString.lowercased() }

    static let columns = """
        id, mrn, accession_number, study_uid, series_uid, study_date, procedure_occurrence_id, project_name, \
        extract_generated_timestamp, priority, traceparent, tracestate, state, reason, attempts, archive, lane, studies, study_records, \
        created_at, updated_at, started_at, next_attempt_at
        """

    static func job(_ row: Row) throws -> Job {
        guard let createdAt: Date = row["created_at"], let updatedAt: Date = row["updated_at"] else {
            throw DatabaseError(.invalidRow, "imaging_job row has no created_at/updated_at")
        }
        return try JobRow(
            id: row["id"],
            mrn: row["mrn"],
            accessionNumber: row["accession_number"],
            studyUID: row["study_uid"],
            seriesUID: row["series_uid"],
            studyDate: row["study_date"],
            procedureOccurrenceID: row["procedure_occurrence_id"],
            projectName: row["project_name"],
            extractGeneratedTimestamp: row["extract_generated_timestamp"],
            priority: row["priority"],
            traceparent: row["traceparent"],
            tracestate: row["tracestate"],
            state: row["state"],
            reason: row["reason"],
            attempts: row["attempts"],
            archive: row["archive"],
            lane: row["lane"],
            studies: row["studies"],
            studyRecords: row["study_records"],
            createdAt: createdAt,
            updatedAt: updatedAt,
            startedAt: row["started_at"],
            nextAttemptAt: row["next_attempt_at"]
        ).job()
    }
}
