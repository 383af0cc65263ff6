/// Every schema revision this service knows, oldest first.
///
/// The first four are PIXL's alembic revisions for the `pipeline` schema, with PIXL's ids, reproduced
/// from SAFEHR-data/PIXL `pixl_imaging/alembic/versions/`:
///
/// - `bcaef54e2bfe_create_extract_and_image_tables.py` (2024-02-12): `extract(extract_id Integer PK,
///   slug String not null)`, `image(image_id Integer PK, accession_number String not null, study_date Date
///   not null, mrn String not null, hashed_identifier String null, exported_at DateTime(timezone=True) null,
///   extract_id Integer not null FK → extract.extract_id)`;
/// - `cb5ee12a6e20_replace_hashed_id_with_pseudo_study_uid.py` (2024-05-01): `alter_column("image",
///   "hashed_identifier", new_column_name="pseudo_study_uid")`;
/// - `83dcb3812628_add_study_uid_column_to_image_table.py` (2024-08-01): `add_column("image",
///   Column("study_uid", String(), nullable=True))`;
/// - `d947cc715eb1_add_pseudo_patient_id_column_to_image_table.py` (2024-08-21): `add_column("image",
///   Column("pseudo_patient_id", String(length=255), nullable=True))`.
///
/// The PostgreSQL DDL is what SQLAlchemy emits for those operations (an Integer primary key becomes
/// `SERIAL`, `String()` `VARCHAR`, `DateTime(timezone=True)` `TIMESTAMP WITH TIME ZONE`, unnamed primary and
/// foreign keys get PostgreSQL's default names `extract_pkey`, `image_pkey`, `image_extract_id_fkey`), and
/// `alembic_version` is created as alembic does, in the same schema (`version_table_schema`, PIXL's env.py).
/// PIXL renamed the schema `pixl_pipeline` in 2025 by editing these revisions in place; the schema name
/// here is configuration (`PIXL_DB_SCHEMA`).
///
/// Later revisions are this service's own (`pixl_imaging_NNNN`).
public enum Revisions {
    /// All revisions, oldest first.
    public static let all: [Revision] = [
        createExtractAndImageTables,
        replaceHashedIDWithPseudoStudyUID,
        addStudyUIDColumnToImageTable,
        addPseudoPatientIDColumnToImageTable,
        createImagingJobTable,
        addPriorityStudyRecordsAndClaims,
        addDueTimeKeysetIndexesAndCounts,
        addLanes,
        addTraceContext,
    ]

    /// PIXL's own head revision: the last one PIXL's Python tools know.
    public static let pixlHead = "d947cc715eb1"

    /// The newest revision.
    public static var head: String { all[all.count - 1].id }

    /// The revision with `id`, or `nil`.
    public static func revision(_ id: String) -> Revision? { all.first { $0.id == id } }

    // MARK: PIXL's revisions

    static let createExtractAndImageTables = Revision(id: "bcaef54e2bfe", summary: "Create extract and image tables") { dialect, t in
        let serial = dialect == .postgres ? "SERIAL" : "INTEGER"
        let timestamptz = dialect == .postgres ? "TIMESTAMP WITH TIME ZONE" : "DATETIME"
        return [
            """
            CREATE TABLE \(t.extract) (
                extract_id \(serial) NOT NULL,
                slug VARCHAR NOT NULL,
                PRIMARY KEY (extract_id)
            )
            """,
            """
            CREATE TABLE \(t.image) (
                image_id \(serial) NOT NULL,
                accession_number VARCHAR NOT NULL,
                study_date DATE NOT NULL,
                mrn VARCHAR NOT NULL,
                hashed_identifier VARCHAR,
                exported_at \(timestamptz),
                extract_id INTEGER NOT NULL,
                PRIMARY KEY (image_id),
                FOREIGN KEY(extract_id) REFERENCES \(t.extract) (extract_id)
            )
            """,
        ]
    }

    static let replaceHashedIDWithPseudoStudyUID = Revision(id: "cb5ee12a6e20", summary: "replace_hashed_id_with_pseudo_study_uid") { _, t in
        ["ALTER TABLE \(t.image) RENAME COLUMN hashed_identifier TO pseudo_study_uid"]
    }

    static let addStudyUIDColumnToImageTable = Revision(id: "83dcb3812628", summary: "Add study UID column to Image table") { _, t in
        ["ALTER TABLE \(t.image) ADD COLUMN study_uid VARCHAR"]
    }

    static let addPseudoPatientIDColumnToImageTable = Revision(id: "d947cc715eb1", summary: "Add pseudo patient ID to image table") { _, t in
        ["ALTER TABLE \(t.image) ADD COLUMN pseudo_patient_id VARCHAR(255)"]
    }

    // MARK: The service's revisions

    /// States in which a job still has work ahead (mirrors ``JobState/isFinal``).
    static let unfinishedStates = "('queued', 'in_progress', 'retry', 'deferred')"

    static let createImagingJobTable = Revision(id: "pixl_imaging_0001", summary: "Create imaging_job table") { dialect, t in
        let uuid = dialect == .postgres ? "UUID" : "TEXT"
        let timestamptz = dialect == .postgres ? "TIMESTAMP WITH TIME ZONE" : "DATETIME"
        // Insertion order, used for "oldest first": an identity on PostgreSQL; on SQLite the store assigns MAX(seq) + 1
        // inside its (serialised) write transaction.
        let seq = dialect == .postgres ? "BIGINT GENERATED ALWAYS AS IDENTITY" : "INTEGER NOT NULL"
        return [
            """
            CREATE TABLE \(t.imagingJob) (
                id \(uuid) NOT NULL,
                seq \(seq),
                mrn VARCHAR NOT NULL,
                accession_number VARCHAR NOT NULL,
                study_uid VARCHAR NOT NULL,
                series_uid TEXT NOT NULL,
                study_date DATE NOT NULL,
                procedure_occurrence_id BIGINT NOT NULL,
                project_name VARCHAR NOT NULL,
                extract_generated_timestamp VARCHAR NOT NULL,
                state VARCHAR(16) NOT NULL,
                reason TEXT,
                attempts INTEGER NOT NULL DEFAULT 0,
                archive VARCHAR(16),
                studies TEXT NOT NULL DEFAULT '[]',
                created_at \(timestamptz) NOT NULL,
                updated_at \(timestamptz) NOT NULL,
                next_attempt_at \(timestamptz),
                started_at \(timestamptz),
                lease_expires_at \(timestamptz),
                CONSTRAINT imaging_job_pkey PRIMARY KEY (id),
                CONSTRAINT imaging_job_state_check CHECK (state IN ('queued', 'in_progress', 'retry', 'deferred', 'succeeded', 'discarded', 'failed')),
                CONSTRAINT imaging_job_archive_check CHECK (archive IS NULL OR archive IN ('local', 'primary', 'secondary')),
                CONSTRAINT imaging_job_project_name_check CHECK (project_name <> ''),
                CONSTRAINT imaging_job_attempts_check CHECK (attempts >= 0)
            )
            """,
            "CREATE UNIQUE INDEX ix_imaging_job_seq ON \(t.imagingJob) (seq)",
            // Claim order: unfinished jobs, oldest first.
            "CREATE INDEX ix_imaging_job_claim ON \(t.imagingJob) (seq) WHERE state IN \(unfinishedStates)",
            // Identity dedupe at enqueue (series_uid, up to 64 KiB, is compared on the few rows this finds).
            """
            CREATE INDEX ix_imaging_job_identity ON \(t.imagingJob) (project_name, mrn, accession_number, study_uid) \
            WHERE state IN \(unfinishedStates)
            """,
            // Listing newest first, by state or project; earliest due date.
            "CREATE INDEX ix_imaging_job_created ON \(t.imagingJob) (created_at)",
            "CREATE INDEX ix_imaging_job_state_created ON \(t.imagingJob) (state, created_at)",
            "CREATE INDEX ix_imaging_job_project_created ON \(t.imagingJob) (project_name, created_at)",
        ]
    }

    /// A job's priority (1 to 5, claimed highest first, then oldest); what it holds of each study (Orthanc id,
    /// StudyInstanceUID, archive, expected and present instances, per series) as JSON, `studies` keeping the Orthanc ids
    /// of rows from before; and the token of the claim that holds it, without which nothing about it can be written.
    static let addPriorityStudyRecordsAndClaims = Revision(
        id: "pixl_imaging_0002",
        summary: "Add priority, study records and claim tokens to imaging_job"
    ) { dialect, t in
        [
            """
            ALTER TABLE \(t.imagingJob) ADD COLUMN priority SMALLINT NOT NULL DEFAULT 1 \
            CONSTRAINT imaging_job_priority_check CHECK (priority BETWEEN 1 AND 5)
            """,
            "ALTER TABLE \(t.imagingJob) ADD COLUMN study_records TEXT NOT NULL DEFAULT '[]'",
            "ALTER TABLE \(t.imagingJob) ADD COLUMN lease_token \(dialect == .postgres ? "UUID" : "TEXT")",
            // Claim order: unfinished jobs, highest priority first, then oldest.
            "DROP INDEX \(t.qualified("ix_imaging_job_claim"))",
            "CREATE INDEX ix_imaging_job_claim ON \(t.imagingJob) (priority DESC, seq) WHERE state IN \(unfinishedStates)",
            // The newest job of an identity, finished or not (a message delivered again).
            "CREATE INDEX ix_imaging_job_identity_any ON \(t.imagingJob) (project_name, mrn, accession_number, study_uid, seq)",
        ]
    }

    /// What keeps every request independent of the backlog (a million-job cohort costs what ten jobs cost):
    ///
    /// - `due_at`, when a job is next due (queued: since it was created; retry and deferred: its next attempt; in
    ///   progress: when its lease runs out; finished: never), derived by the database from the state so that no write
    ///   can forget it, and indexed by priority, so a claim and "when is the next job due" are one seek per priority;
    /// - listing indexes ending in (created_at, seq), the listing's order, so a keyset page, filtered by state, project
    ///   or creation time, is a seek and a short range read;
    /// - `imaging_job_count`, jobs per project and state, kept by the database with every write (``jobCounts(_:_:keys:)``).
    static let addDueTimeKeysetIndexesAndCounts = Revision(
        id: "pixl_imaging_0003",
        summary: "Add due time, keyset listing indexes and job counts"
    ) { dialect, t in
        let dueAt = """
            CASE state WHEN 'queued' THEN created_at WHEN 'retry' THEN next_attempt_at WHEN 'deferred' THEN next_attempt_at \
            WHEN 'in_progress' THEN lease_expires_at END
            """
        var statements = [
            dialect == .postgres
                ? "ALTER TABLE \(t.imagingJob) ADD COLUMN due_at TIMESTAMP WITH TIME ZONE GENERATED ALWAYS AS (\(dueAt)) STORED"
                // SQLite adds only virtual generated columns to an existing table; an index stores the value.
                : "ALTER TABLE \(t.imagingJob) ADD COLUMN due_at DATETIME GENERATED ALWAYS AS (\(dueAt)) VIRTUAL",
            "DROP INDEX \(t.qualified("ix_imaging_job_claim"))",
            "CREATE INDEX ix_imaging_job_due ON \(t.imagingJob) (priority, due_at, seq) WHERE due_at IS NOT NULL",
            // ix_imaging_job_identity_any serves the enqueue's lookup of unfinished identical jobs as well.
            "DROP INDEX \(t.qualified("ix_imaging_job_identity"))",
            "DROP INDEX \(t.qualified("ix_imaging_job_created"))",
            "DROP INDEX \(t.qualified("ix_imaging_job_state_created"))",
            "DROP INDEX \(t.qualified("ix_imaging_job_project_created"))",
            "CREATE INDEX ix_imaging_job_listing ON \(t.imagingJob) (created_at, seq)",
            "CREATE INDEX ix_imaging_job_state_listing ON \(t.imagingJob) (state, created_at, seq)",
            "CREATE INDEX ix_imaging_job_project_listing ON \(t.imagingJob) (project_name, created_at, seq)",
            "CREATE INDEX ix_imaging_job_project_state_listing ON \(t.imagingJob) (project_name, state, created_at, seq)",
        ]
        statements += jobCounts(dialect, t, keys: ["project_name", "state"])
        return statements
    }

    /// The lanes (issue 13): `lane`, the archive's queue a job waits in (`primary` until the primary archive has not found
    /// it; the jobs deferred for the secondary's window are there already); the due index led by the lane, so each
    /// lane's claim and next due time are seeks of their own; `ix_imaging_job_share`, the same with the project after
    /// the priority, so the fair share's claim of a project's due job is a seek too; and the counts kept per lane.
    static let addLanes = Revision(id: "pixl_imaging_0004", summary: "Add lanes, the fair share's index and counts per lane") { dialect, t in
        var statements = [
            """
            ALTER TABLE \(t.imagingJob) ADD COLUMN lane VARCHAR(16) NOT NULL DEFAULT 'primary' \
            CONSTRAINT imaging_job_lane_check CHECK (lane IN ('primary', 'secondary'))
            """,
            "DROP INDEX \(t.qualified("ix_imaging_job_due"))",
            "CREATE INDEX ix_imaging_job_due ON \(t.imagingJob) (lane, priority, due_at, seq) WHERE due_at IS NOT NULL",
            "CREATE INDEX ix_imaging_job_share ON \(t.imagingJob) (lane, priority, project_name, due_at, seq) WHERE due_at IS NOT NULL",
        ]
        switch dialect {
        case .postgres:
            statements += ["INSERT", "UPDATE", "DELETE"].flatMap { event in
                [
                    "DROP TRIGGER imaging_job_count_\(event.lowercased()) ON \(t.imagingJob)",
                    "DROP FUNCTION \(t.qualified("imaging_job_count_\(event.lowercased())"))()",
                ]
            }
        case .sqlite:
            statements += ["insert", "update", "delete"].map { "DROP TRIGGER imaging_job_count_\($0)" }
        }
        statements += [
            "DROP TABLE \(t.qualified("imaging_job_count"))",
            "UPDATE \(t.imagingJob) SET lane = 'secondary' WHERE state = 'deferred'",
        ]
        return statements + jobCounts(dialect, t, keys: ["project_name", "lane", "state"])
    }

    /// The W3C Trace Context a job's message came with (`traceparent` and `tracestate`, validated on the way in; `NULL`
    /// without one), so that the job's span, run later by a worker, continues the sender's trace.
    static let addTraceContext = Revision(id: "pixl_imaging_0005", summary: "Add the trace context to imaging_job") { _, t in
        [
            "ALTER TABLE \(t.imagingJob) ADD COLUMN traceparent TEXT",
            "ALTER TABLE \(t.imagingJob) ADD COLUMN tracestate TEXT",
        ]
    }

    /// `imaging_job_count`: jobs per `keys` (the job table's columns, `state` last), filled from the job table and kept
    /// by triggers in the same transaction as every write, so `/status` reads a few rows instead of counting a million.
    /// PostgreSQL's triggers run once per statement on the statement's changed rows (a batch of 10,000 is one upsert per
    /// key) and take the counters' row locks in one order, so concurrent writers cannot deadlock on them; SQLite's run
    /// per row inside the single writer.
    private static func jobCounts(_ dialect: SQLDialect, _ t: TableNames, keys: [String]) -> [String] {
        let counts = t.qualified("imaging_job_count")
        let list = keys.joined(separator: ", ")
        let columns = keys.map { $0 == "state" ? "state VARCHAR(16) NOT NULL" : "\($0) VARCHAR NOT NULL" }
        var statements = [
            """
            CREATE TABLE \(counts) (
                \(columns.joined(separator: ",\n    ")),
                jobs BIGINT NOT NULL,
                CONSTRAINT imaging_job_count_pkey PRIMARY KEY (\(list))
            )
            """,
            "INSERT INTO \(counts) (\(list), jobs) SELECT \(list), COUNT(*) FROM \(t.imagingJob) GROUP BY \(list)",
        ]
        switch dialect {
        case .postgres:
            // One function per event: each adds the statement's changed rows (+1 new, -1 old) to the counters.
            let upsert = { (changes: String) in
                """
                INSERT INTO \(counts) AS c (\(list), jobs)
                SELECT \(list), SUM(delta) FROM (\(changes)) AS changes
                GROUP BY \(list) HAVING SUM(delta) <> 0
                ORDER BY \(list)
                ON CONFLICT (\(list)) DO UPDATE SET jobs = c.jobs + EXCLUDED.jobs
                """
            }
            let changes: [(event: String, transition: String, rows: String)] = [
                ("INSERT", "NEW TABLE AS new_rows", "SELECT \(list), 1 AS delta FROM new_rows"),
                (
                    "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows",
                    "SELECT \(list), 1 AS delta FROM new_rows UNION ALL SELECT \(list), -1 FROM old_rows"
                ),
                ("DELETE", "OLD TABLE AS old_rows", "SELECT \(list), -1 AS delta FROM old_rows"),
            ]
            for change in changes {
                let function = t.qualified("imaging_job_count_\(change.event.lowercased())")
                statements.append("""
                    CREATE FUNCTION \(function)() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN
                        \(upsert(change.rows));
                        RETURN NULL;
                    END $$
                    """)
                statements.append("""
                    CREATE TRIGGER imaging_job_count_\(change.event.lowercased()) AFTER \(change.event) ON \(t.imagingJob)
                    REFERENCING \(change.transition) FOR EACH STATEMENT EXECUTE FUNCTION \(function)()
                    """)
            }
        case .sqlite:
            let rowKeys = { (row: String) in keys.map { "\(row).\($0)" }.joined(separator: ", ") }
            let add = { (row: String) in
                """
                INSERT INTO \(counts) (\(list), jobs) VALUES (\(rowKeys(row)), 1)
                    ON CONFLICT (\(list)) DO UPDATE SET jobs = jobs + 1;
                """
            }
            let remove = { (row: String) in
                "UPDATE \(counts) SET jobs = jobs - 1 WHERE \(keys.map { "\($0) = \(row).\($0)" }.joined(separator: " AND "));"
            }
            let changed = keys.map { "OLD.\($0) IS NOT NEW.\($0)" }.joined(separator: " OR ")
            statements += [
                "CREATE TRIGGER imaging_job_count_insert AFTER INSERT ON \(t.imagingJob) BEGIN \(add("NEW")) END",
                """
                CREATE TRIGGER imaging_job_count_update AFTER UPDATE OF \(list) ON \(t.imagingJob)
                WHEN \(changed)
                BEGIN \(remove("OLD")) \(add("NEW")) END
                """,
                "CREATE TRIGGER imaging_job_count_delete AFTER DELETE ON \(t.imagingJob) BEGIN \(remove("OLD")) END",
            ]
        }
        return statements
    }
}
