public import Foundation
public import Logging
public import PixlCore
public import PostgresNIO

/// The job store on PostgreSQL (postgres-nio `PostgresClient`), in the schema of ``DatabaseConfiguration/schema``.
///
/// Claims use `FOR UPDATE SKIP LOCKED`, so several replicas never claim the same job. Enqueues take a
/// transaction-scoped advisory lock so that two concurrent enqueues of an identical message cannot both insert it.
///
/// The client must be running (`client.run()` in a task or a `ServiceGroup`) while the store is used:
///
/// ```swift
/// let client = PostgresClient(configuration: settings.clientConfiguration(), backgroundLogger: logger)
/// let store = PostgresJobStore(client: client, schema: "pipeline", logger: logger)
/// ```
public struct PostgresJobStore: JobStore {
    // MARK: Member variables

    public let client: PostgresClient
    public let schema: String
    private let logger: Logger
    private let table: String

    // MARK: Initialization

    /// - Parameters:
    ///   - client: A client whose `run()` is being awaited elsewhere.
    ///   - schema: The schema holding `imaging_job` (a plain lower-case identifier, as ``DatabaseConfiguration`` checks).
    ///   - logger: For query logs (postgres-nio logs at debug and trace).
    public init(client: PostgresClient, schema: String = "pipeline", logger: Logger) {
        precondition(DatabaseConfiguration.isPlainIdentifier(schema), "schema must be a plain SQL identifier")
        self.client = client
        self.schema = schema
        self.logger = logger
        self.table = "\(schema).imaging_job"
    }

    // MARK: Migrations

    /// The revision recorded in `<schema>.alembic_version`, or `nil` for a database without it.
    public func currentRevision() async throws -> String? {
        try await migrationDriver.versions()?.first
    }

    /// Upgrades the database to `target` (`nil`: head), one transaction per revision (see ``Migrator``).
    @discardableResult
    public func migrate(to target: String? = nil, logger: Logger) async throws -> MigrationReport {
        try await Migrator(driver: migrationDriver).upgrade(to: target, logger: logger)
    }

    private var migrationDriver: PostgresMigrationDriver { PostgresMigrationDriver(client: client, schema: schema, logger: logger) }

    // MARK: JobStore

    /// Three round trips per batch: the advisory lock, one lookup of unfinished identical jobs for the whole batch,
    /// and one multi-row INSERT (from arrays) of the rest.
    public func enqueue(_ messages: [ImagingMessage], now: Date) async throws -> [EnqueuedJob] {
        guard !messages.isEmpty else { return [] }
        return try await client.withUnwrappedTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.enqueueLockKey))", logger: logger)

            // Unfinished jobs identical to any message of the batch (oldest first, so the first one wins).
            let identities = messages.map(\.identity)
            let existingRows = try await connection.query(
                """
                SELECT \(unescaped: Self.columns) FROM \(unescaped: table) AS j
                JOIN unnest(\(identities.map(\.projectName)), \(identities.map(\.mrn)), \(identities.map(\.accessionNumber)),
                            \(identities.map(\.studyUID)), \(identities.map(\.seriesUID)))
                     AS m(k_project, k_mrn, k_accession, k_study, k_series)
                  ON j.project_name = m.k_project AND j.mrn = m.k_mrn AND j.accession_number = m.k_accession
                 AND j.study_uid = m.k_study AND j.series_uid = m.k_series
                WHERE j.state IN \(unescaped: JobSQL.unfinishedStates)
                ORDER BY j.seq
                """,
                logger: logger
            )
            var byIdentity: [ImagingMessage.Identity: Job] = [:]
            for try await row in existingRows {
                let job = try Self.job(row)
                if byIdentity[job.message.identity] == nil { byIdentity[job.message.identity] = job }
            }

            // The rest, in batch order; a repeat within the batch maps to its first occurrence.
            var results: [EnqueuedJob?] = Array(repeating: nil, count: messages.count)
            var newIndexByIdentity: [ImagingMessage.Identity: Int] = [:]
            var firstIndexByIdentity: [ImagingMessage.Identity: Int] = [:]
            var newIDs: [UUID] = []
            var newMessages: [ImagingMessage] = []
            for (index, message) in messages.enumerated() {
                if let job = byIdentity[message.identity] {
                    results[index] = EnqueuedJob(job: job, isNew: false)
                } else if newIndexByIdentity[message.identity] == nil {
                    newIndexByIdentity[message.identity] = newIDs.count
                    firstIndexByIdentity[message.identity] = index
                    newIDs.append(UUID())
                    newMessages.append(message)
                }
            }
            if !newMessages.isEmpty {
                // A message without a trace context travels as '' (the arrays unnest takes hold no NULL), stored as NULL.
                try await connection.query(
                    """
                    INSERT INTO \(unescaped: table) (id, mrn, accession_number, study_uid, series_uid, study_date,
                        procedure_occurrence_id, project_name, extract_generated_timestamp, priority, traceparent, tracestate, state,
                        attempts, studies, created_at, updated_at)
                    SELECT m.id, m.mrn, m.accession_number, m.study_uid, m.series_uid, m.study_date::date,
                        m.procedure_occurrence_id, m.project_name, m.extract_generated_timestamp, m.priority,
                        NULLIF(m.traceparent, ''), NULLIF(m.tracestate, ''), 'queued', 0, '[]', \(now), \(now)
                    FROM unnest(\(newIDs), \(newMessages.map(\.mrn)), \(newMessages.map(\.accessionNumber)),
                                \(newMessages.map(\.studyUID)), \(newMessages.map(\.seriesUID)),
                                \(newMessages.map(\.studyDate.description)), \(newMessages.map(\.procedureOccurrenceID)),
                                \(newMessages.map(\.projectName)), \(newMessages.map(\.extractGeneratedTimestamp.description)),
                                \(newMessages.map { Int16($0.priority) }),
                                \(newMessages.map { $0.traceContext?.traceparent ?? "" }), \(newMessages.map { $0.traceContext?.tracestate ?? "" }))
                         WITH ORDINALITY AS m(id, mrn, accession_number, study_uid, series_uid, study_date, procedure_occurrence_id,
                                              project_name, extract_generated_timestamp, priority, traceparent, tracestate, ordinal)
                    ORDER BY m.ordinal
                    """,
                    logger: logger
                )
            }
            // The new jobs are what was inserted, built here rather than read back: a batch of 10,000 is not decoded again.
            for (index, message) in messages.enumerated() where results[index] == nil {
                guard let newIndex = newIndexByIdentity[message.identity] else {
                    throw DatabaseError(.invalidRow, "a message of the batch was neither found nor inserted")
                }
                let job = Job(id: newIDs[newIndex], message: newMessages[newIndex], state: .queued, createdAt: now, updatedAt: now)
                // The first occurrence is new; a repeat within the batch is that same job.
                results[index] = EnqueuedJob(job: job, isNew: firstIndexByIdentity[message.identity] == index)
            }
            return results.compactMap { $0 }
        }
    }

    public func claimNext(in lane: Lane, projectOrder: [String], now: Date, lease: Duration) async throws -> Claim? {
        let token = UUID()
        let projects = projectOrder.prefix(JobSQL.maximumProjectOrder)
        var binds = PostgresBindings(capacity: 4 + projects.count)
        binds.append(now)
        binds.append(now.addingTimeInterval(lease.seconds))
        binds.append(token)
        binds.append(lane.rawValue)
        for project in projects { binds.append(project) }
        let sql = JobSQL.claim(
            table: table, columns: Self.columns, projects: projects.count, locking: "FOR UPDATE SKIP LOCKED", placeholder: Self.placeholder
        )
        let rows = try await client.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)
        return try await Self.firstJob(rows).map { Claim(job: $0, token: token) }
    }

    public func renewLease(of claim: Claim, now: Date, lease: Duration) async throws {
        let leaseEnd = now.addingTimeInterval(lease.seconds)
        let rows = try await client.query(
            """
            UPDATE \(unescaped: table) SET lease_expires_at = \(leaseEnd), updated_at = \(now)
            WHERE id = \(claim.job.id) AND lease_token = \(claim.token) AND state = 'in_progress' RETURNING id
            """,
            logger: logger
        )
        if try await Self.isEmpty(rows) { throw JobStoreError(.leaseLost, jobID: claim.job.id) }
    }

    @discardableResult
    public func record(_ result: JobResult, for claim: Claim, now: Date) async throws -> Job {
        let rows = try await client.query(
            """
            UPDATE \(unescaped: table)
            SET state = \(result.state.rawValue), reason = \(result.reason), archive = COALESCE(\(result.archive?.rawValue), archive),
                lane = COALESCE(\(result.lane?.rawValue), lane), study_records = COALESCE(\(result.studies.map(JobSQL.studyRecordsJSON)), study_records),
                next_attempt_at = \(result.nextAttemptAt), lease_expires_at = NULL, lease_token = NULL, updated_at = \(now)
            WHERE id = \(claim.job.id) AND lease_token = \(claim.token) AND state = 'in_progress'
            RETURNING \(unescaped: Self.columns)
            """,
            logger: logger
        )
        guard let job = try await Self.firstJob(rows) else { throw JobStoreError(.leaseLost, jobID: claim.job.id) }
        return job
    }

    public func release(_ claim: Claim, now: Date) async throws {
        let rows = try await client.query(
            """
            UPDATE \(unescaped: table)
            SET state = 'queued', attempts = GREATEST(attempts - 1, 0), lease_expires_at = NULL, lease_token = NULL,
                next_attempt_at = NULL, updated_at = \(now)
            WHERE id = \(claim.job.id) AND lease_token = \(claim.token) AND state = 'in_progress' RETURNING id
            """,
            logger: logger
        )
        if try await Self.isEmpty(rows) { throw JobStoreError(.leaseLost, jobID: claim.job.id) }
    }

    public func retryFailed(project: String, now: Date, limit: Int) async throws -> Int {
        try await changedRows(JobSQL.retryFailed(table: table, inBatch: JobSQL.batchCondition(.postgres), placeholder: Self.placeholder), project: project, now: now, limit: limit)
    }

    public func cancelWaiting(project: String, now: Date, limit: Int) async throws -> Int {
        let sql = JobSQL.cancelWaiting(
            table: table, locking: "FOR UPDATE SKIP LOCKED", inBatch: JobSQL.batchCondition(.postgres), placeholder: Self.placeholder
        )
        return try await changedRows(sql, project: project, now: now, limit: limit)
    }

    /// Runs an operator's batch (placeholders: the project, now, the batch's size) and counts the rows it changed.
    private func changedRows(_ sql: String, project: String, now: Date, limit: Int) async throws -> Int {
        var binds = PostgresBindings(capacity: 3)
        binds.append(project)
        binds.append(now)
        binds.append(Int64(limit))
        var changed = 0
        for try await _ in try await client.query(PostgresQuery(unsafeSQL: sql + " RETURNING id", binds: binds), logger: logger) { changed += 1 }
        return changed
    }

    public func job(id: UUID) async throws -> Job? {
        let rows = try await client.query("SELECT \(unescaped: Self.columns) FROM \(unescaped: table) WHERE id = \(id)", logger: logger)
        return try await Self.firstJob(rows)
    }

    public func latestJob(for identity: ImagingMessage.Identity) async throws -> Job? {
        let rows = try await client.query(
            """
            SELECT \(unescaped: Self.columns) FROM \(unescaped: table)
            WHERE project_name = \(identity.projectName) AND mrn = \(identity.mrn) AND accession_number = \(identity.accessionNumber)
              AND study_uid = \(identity.studyUID) AND series_uid = \(identity.seriesUID)
            ORDER BY seq DESC LIMIT 1
            """,
            logger: logger
        )
        return try await Self.firstJob(rows)
    }

    public func jobs(matching filter: JobFilter, from start: PageStart, limit: Int) async throws -> JobPage {
        let statement = JobSQL.listing(table: table, columns: Self.columns, filter: filter, start: start, limit: limit, placeholder: Self.placeholder)
        var binds = PostgresBindings(capacity: statement.arguments.count)
        for argument in statement.arguments {
            switch argument {
            case .text(let text): binds.append(text)
            case .date(let date): binds.append(date)
            case .integer(let integer): binds.append(integer)
            }
        }
        var fetched: [(job: Job, cursor: JobCursor)] = []
        for try await row in try await client.query(PostgresQuery(unsafeSQL: statement.sql, binds: binds), logger: logger) {
            fetched.append((try Self.job(row), JobCursor(position: try row.makeRandomAccess()["seq"].decode(Int64.self))))
        }
        return JobPage(fetched: fetched, limit: limit, start: start)
    }

    public func counts() async throws -> JobCounts {
        let rows = try await client.query(PostgresQuery(unsafeSQL: JobSQL.counts(table: "\(schema).imaging_job_count")), logger: logger)
        var counts = JobCounts()
        for try await (project, lane, state, jobs) in rows.decode((String, String, String, Int).self) {
            guard let lane = Lane(rawValue: lane), let state = JobState(rawValue: state) else { continue }
            counts.add(jobs, project: project, lane: lane, state: state)
        }
        return counts
    }

    public func ping() async throws {
        _ = try await Self.isEmpty(try await client.query("SELECT 1 FROM \(unescaped: table) LIMIT 1", logger: logger))
    }

    public func nextDueDate(in lane: Lane) async throws -> Date? {
        var binds = PostgresBindings(capacity: 1)
        binds.append(lane.rawValue)
        let query = PostgresQuery(unsafeSQL: JobSQL.nextDue(table: table, placeholder: Self.placeholder), binds: binds)
        let rows = try await client.query(query, logger: logger)
        for try await due in rows.decode((Date?).self) { return due }
        return nil
    }

    // MARK: Row mapping

    /// PostgreSQL's numbered placeholder.
    static func placeholder(_ n: Int) -> String { "$\(n)" }

    /// Serialises enqueues (not claims): `hashtext('pixl_imaging.enqueue')` would do too; a constant is plainer.
    static let enqueueLockKey: Int64 = 0x5049_584C_0001  // "PIXL" 1

    static let columns = """
        id, mrn, accession_number, study_uid, series_uid, study_date::text AS study_date, procedure_occurrence_id, project_name, \
        extract_generated_timestamp, priority, traceparent, tracestate, state, reason, attempts, archive, lane, studies, study_records, \
        created_at, updated_at, started_at, next_attempt_at
        """

    static func firstJob(_ rows: PostgresRowSequence) async throws -> Job? {
        var first: Job?
        for try await row in rows where first == nil { first = try job(row) }
        return first
    }

    static func isEmpty(_ rows: PostgresRowSequence) async throws -> Bool {
        var empty = true
        for try await _ in rows { empty = false }
        return empty
    }

    static func job(_ row: PostgresRow) throws -> Job {
        let cells = row.makeRandomAccess()
        return try JobRow(
            id: cells["id"].decode(UUID.self).uuidString,
            mrn: cells["mrn"].decode(String.self),
            accessionNumber: cells["accession_number"].decode(String.self),
            studyUID: cells["study_uid"].decode(String.self),
            seriesUID: cells["series_uid"].decode(String.self),
            studyDate: cells["study_date"].decode(String.self),
            procedureOccurrenceID: cells["procedure_occurrence_id"].decode(Int64.self),
            projectName: cells["project_name"].decode(String.self),
            extractGeneratedTimestamp: cells["extract_generated_timestamp"].decode(String.self),
            priority: Int(cells["priority"].decode(Int16.self)),
            traceparent: cells["traceparent"].decode(String?.self),
            tracestate: cells["tracestate"].decode(String?.self),
            state: cells["state"].decode(String.self),
            reason: cells["reason"].decode(String?.self),
            attempts: cells["attempts"].decode(Int.self),
            archive: cells["archive"].decode(String?.self),
            lane: cells["lane"].decode(String.self),
            studies: cells["studies"].decode(String.self),
            studyRecords: cells["study_records"].decode(String.self),
            createdAt: cells["created_at"].decode(Date.self),
            updatedAt: cells["updated_at"].decode(Date.self),
            startedAt: cells["started_at"].decode(Date?.self),
            nextAttemptAt: cells["next_attempt_at"].decode(Date?.self)
        ).job()
    }
}
