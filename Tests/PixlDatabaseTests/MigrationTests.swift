import Foundation
import PixlTesting
import Testing

@testable import PixlDatabase

/// PIXL's tables at its head revision d947cc715eb1, column by column, as PostgreSQL's information_schema describes
/// them for the DDL of SAFEHR-data/PIXL pixl_imaging/alembic/versions (see ``Revisions``): name, data type,
/// character maximum length, nullable, default.
func expectedPIXLColumns(schema: String) -> [[String?]] {
    [
        ["alembic_version", "version_num", "character varying", "32", "NO", nil],
        ["extract", "extract_id", "integer", nil, "NO", "nextval('\(schema).extract_extract_id_seq'::regclass)"],
        ["extract", "slug", "character varying", nil, "NO", nil],
        ["image", "image_id", "integer", nil, "NO", "nextval('\(schema).image_image_id_seq'::regclass)"],
        ["image", "accession_number", "character varying", nil, "NO", nil],
        ["image", "study_date", "date", nil, "NO", nil],
        ["image", "mrn", "character varying", nil, "NO", nil],
        ["image", "pseudo_study_uid", "character varying", nil, "YES", nil],
        ["image", "exported_at", "timestamp with time zone", nil, "YES", nil],
        ["image", "extract_id", "integer", nil, "NO", nil],
        ["image", "study_uid", "character varying", nil, "YES", nil],
        ["image", "pseudo_patient_id", "character varying", "255", "YES", nil],
    ]
}

/// The same on SQLite (`PRAGMA table_info`): name, declared type, not null, primary key position.
let expectedSQLiteColumns: [[String?]] = [
    ["alembic_version", "version_num", "VARCHAR(32)", "1", "1"],
    ["extract", "extract_id", "INTEGER", "1", "1"],
    ["extract", "slug", "VARCHAR", "1", "0"],
    ["image", "image_id", "INTEGER", "1", "1"],
    ["image", "accession_number", "VARCHAR", "1", "0"],
    ["image", "study_date", "DATE", "1", "0"],
    ["image", "mrn", "VARCHAR", "1", "0"],
    ["image", "pseudo_study_uid", "VARCHAR", "0", "0"],
    ["image", "exported_at", "DATETIME", "0", "0"],
    ["image", "extract_id", "INTEGER", "1", "0"],
    ["image", "study_uid", "VARCHAR", "0", "0"],
    ["image", "pseudo_patient_id", "VARCHAR(255)", "0", "0"],
]

/// Scenarios shared by both backends.
enum MigrationScenarios {
    static let pixlRevisions = ["bcaef54e2bfe", "cb5ee12a6e20", "83dcb3812628", "d947cc715eb1"]

    static func pixlColumns(_ db: TestDatabase) async throws -> [[String?]] {
        switch db.backend {
        case .postgres:
            return try await db.rows(
                """
                SELECT table_name::text, column_name::text, data_type::text, character_maximum_length::text, is_nullable::text, column_default::text
                FROM information_schema.columns
                WHERE table_schema = '\(db.configuration.schema)' AND table_name IN ('alembic_version', 'extract', 'image')
                ORDER BY table_name, ordinal_position
                """
            )
        case .sqlite:
            var result: [[String?]] = []
            for table in ["alembic_version", "extract", "image"] {
                for row in try await db.rows("SELECT name, type, \"notnull\", pk FROM pragma_table_info('\(table)') ORDER BY cid") {
                    result.append([table] + row)
                }
            }
            return result
        }
    }

    static func constraints(_ db: TestDatabase) async throws -> [[String?]] {
        try await db.rows(
            """
            SELECT tc.table_name::text, tc.constraint_name::text, tc.constraint_type::text, kcu.column_name::text,
                   ccu.table_name::text AS referenced_table, ccu.column_name::text AS referenced_column
            FROM information_schema.table_constraints tc
            JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema
            LEFT JOIN information_schema.constraint_column_usage ccu
                   ON tc.constraint_type = 'FOREIGN KEY' AND ccu.constraint_name = tc.constraint_name AND ccu.table_schema = tc.table_schema
            WHERE tc.table_schema = '\(db.configuration.schema)' AND tc.table_name IN ('alembic_version', 'extract', 'image')
            ORDER BY tc.table_name, tc.constraint_name
            """
        )
    }

    static func freshDatabase(_ backend: Backend) async throws {
        try await TestDatabase.with(backend) { db in
            let report = try await db.migrate()
            #expect(report.from == nil)
            #expect(report.to == Revisions.head)
            #expect(report.applied == Revisions.all.map(\.id))
            #expect(try await db.scalar("SELECT version_num FROM \(db.table("alembic_version"))") == Revisions.head)

            let columns = try await pixlColumns(db)
            switch backend {
            case .postgres:
                #expect(columns == expectedPIXLColumns(schema: db.configuration.schema))
                #expect(
                    try await constraints(db) == [
                        ["alembic_version", "alembic_version_pkc", "PRIMARY KEY", "version_num", nil, nil],
                        ["extract", "extract_pkey", "PRIMARY KEY", "extract_id", nil, nil],
                        ["image", "image_extract_id_fkey", "FOREIGN KEY", "extract_id", "extract", "extract_id"],
                        ["image", "image_pkey", "PRIMARY KEY", "image_id", nil, nil],
                    ]
                )
            case .sqlite:
                #expect(columns == expectedSQLiteColumns)
                #expect(
                    try await db.rows("SELECT \"table\", \"from\", \"to\" FROM pragma_foreign_key_list('image')") == [
                        ["extract", "extract_id", "extract_id"]
                    ]
                )
            }

            // Twice is a no-op.
            let again = try await db.migrate()
            #expect(again.applied.isEmpty)
            #expect(again.from == Revisions.head && again.to == Revisions.head)
        }
    }

    /// Rows a PIXL database at `revision` could hold, in that revision's columns.
    static func insertPIXLRows(_ db: TestDatabase, at revision: String) async throws {
        let index = pixlRevisions.firstIndex(of: revision)!
        let hashColumn = index == 0 ? "hashed_identifier" : "pseudo_study_uid"
        var columns = "accession_number, study_date, mrn, \(hashColumn), exported_at, extract_id"
        var values1 = "'ACC-1', '2024-01-02', 'MRN-1', 'pseudo-1', NULL, 1"
        var values2 = "'ACC-2', '2024-01-03', 'MRN-2', 'pseudo-2', '2024-05-06 07:08:09+00', 1"
        if index >= 2 {
            columns += ", study_uid"
            values1 += ", '1.2.3.1'"
            values2 += ", NULL"
        }
        if index >= 3 {
            columns += ", pseudo_patient_id"
            values1 += ", 'patient-1'"
            values2 += ", NULL"
        }
        try await db.execute(
            "INSERT INTO \(db.table("extract")) (slug) VALUES ('project-a')",
            "INSERT INTO \(db.table("image")) (\(columns)) VALUES (\(values1))",
            "INSERT INTO \(db.table("image")) (\(columns)) VALUES (\(values2))"
        )
    }

    static func upgradeFromPIXLRevision(_ backend: Backend, revision: String) async throws {
        try await TestDatabase.with(backend) { db in
            let first = try await db.migrate(to: revision)
            #expect(first.to == revision)
            try await insertPIXLRows(db, at: revision)

            let report = try await db.migrate()
            #expect(report.from == revision)
            #expect(report.to == Revisions.head)
            #expect(report.applied == Array(Revisions.all.map(\.id).drop { $0 != revision }.dropFirst()))

            let index = pixlRevisions.firstIndex(of: revision)!
            let rows = try await db.rows(
                """
                SELECT CAST(image_id AS TEXT), accession_number, CAST(study_date AS TEXT), mrn, pseudo_study_uid, study_uid, pseudo_patient_id,
                       CAST(extract_id AS TEXT)
                FROM \(db.table("image")) ORDER BY image_id
                """
            )
            #expect(
                rows == [
                    ["1", "ACC-1", "2024-01-02", "MRN-1", "pseudo-1", index >= 2 ? "1.2.3.1" : nil, index >= 3 ? "patient-1" : nil, "1"],
                    ["2", "ACC-2", "2024-01-03", "MRN-2", "pseudo-2", nil, nil, "1"],
                ]
            )
            #expect(try await db.scalar("SELECT slug FROM \(db.table("extract"))") == "project-a")
            // Serial keys continue after the kept rows.
            try await db.execute("INSERT INTO \(db.table("extract")) (slug) VALUES ('project-b')")
            #expect(try await db.scalar("SELECT CAST(MAX(extract_id) AS TEXT) FROM \(db.table("extract"))") == "2")
        }
    }

    static func unknownRevision(_ backend: Backend) async throws {
        try await TestDatabase.with(backend) { db in
            try await db.migrate(to: "cb5ee12a6e20")
            try await insertPIXLRows(db, at: "cb5ee12a6e20")
            try await db.execute("UPDATE \(db.table("alembic_version")) SET version_num = 'abcdef123456'")

            let error = await #expect(throws: DatabaseError.self) { try await db.migrate() }
            #expect(error?.code == .unknownRevision)
            #expect(error?.description.contains("'abcdef123456'") == true)
            #expect(error?.description.contains("nothing was changed") == true)

            // Nothing changed: same version, same rows, no new column or table.
            #expect(try await db.scalar("SELECT version_num FROM \(db.table("alembic_version"))") == "abcdef123456")
            #expect(try await db.scalar("SELECT CAST(COUNT(*) AS TEXT) FROM \(db.table("image"))") == "2")
            let studyUIDColumn: String?
            switch backend {
            case .postgres:
                studyUIDColumn = try await db.scalar(
                        """
                        SELECT column_name::text FROM information_schema.columns
                        WHERE table_schema = '\(db.configuration.schema)' AND table_name = 'image' AND column_name = 'study_uid'
                        """
                )
            case .sqlite: studyUIDColumn = try await db.scalar("SELECT name FROM pragma_table_info('image') WHERE name = 'study_uid'")
            }
            #expect(studyUIDColumn == nil)

            // An unknown --to stops before touching anything too.
            let targetError = await #expect(throws: DatabaseError.self) { try await db.migrate(to: "nonexistent") }
            #expect(targetError?.code == .unknownRevision)
        }
    }

    /// A revision whose SQL fails is rolled back whole (here its second statement fails) and the version stays.
    static func failingRevisionRollsBack(_ backend: Backend) async throws {
        try await TestDatabase.with(backend) { db in
            try await db.migrate(to: Revisions.pixlHead)
            try await db.execute("CREATE INDEX ix_imaging_job_seq ON \(db.table("image")) (image_id)")
            let error = await #expect(throws: DatabaseError.self) { try await db.migrate() }
            #expect(error?.code == .migrationFailed)
            #expect(try await db.scalar("SELECT version_num FROM \(db.table("alembic_version"))") == Revisions.pixlHead)
            let jobTable: String?
            switch backend {
            case .postgres: jobTable = try await db.scalar("SELECT to_regclass('\(db.table("imaging_job"))')::text")
            case .sqlite: jobTable = try await db.scalar("SELECT name FROM sqlite_master WHERE name = 'imaging_job'")
            }
            #expect(jobTable == nil)
        }
    }

    static func downgradeRefused(_ backend: Backend) async throws {
        try await TestDatabase.with(backend) { db in
            try await db.migrate()
            let error = await #expect(throws: DatabaseError.self) { try await db.migrate(to: "bcaef54e2bfe") }
            #expect(error?.code == .downgradeNotSupported)
            #expect(try await db.scalar("SELECT version_num FROM \(db.table("alembic_version"))") == Revisions.head)
        }
    }

    /// The printed SQL, applied by hand, gives the same schema as migrating.
    static func printedSQLBuildsTheSameSchema(_ backend: Backend) async throws {
        try await TestDatabase.with(backend) { migrated in
            try await migrated.migrate()
            try await TestDatabase.with(backend) { scripted in
                let dialect: SQLDialect = backend == .postgres ? .postgres : .sqlite
                let script = try Database.migrationSQL(dialect: dialect, schema: scripted.configuration.schema)
                switch scripted.configuration.backend {
                case .sqlite(let path):
                    try runProcess("/usr/bin/env", ["sqlite3", "-bail", path], input: script)
                case .postgres(let server):
                    try runProcess(
                        "/usr/bin/env",
                        ["psql", "-q", "-v", "ON_ERROR_STOP=1", "-h", server.host, "-p", String(server.port), "-U", server.username,
                         "-d", server.database ?? server.username],
                        input: script
                    )
                }
                let expected = try await pixlColumns(migrated).map { row in row.map { $0?.replacingOccurrences(of: migrated.configuration.schema, with: "S") } }
                let actual = try await pixlColumns(scripted).map { row in row.map { $0?.replacingOccurrences(of: scripted.configuration.schema, with: "S") } }
                #expect(actual == expected)
                #expect(try await scripted.scalar("SELECT version_num FROM \(scripted.table("alembic_version"))") == Revisions.head)
                // The store works on it, and migrate sees nothing to do.
                #expect(try await scripted.migrate().applied.isEmpty)
            }
        }
    }
}

/// Runs a command with `input` on stdin, failing the test on a non-zero exit.
func runProcess(_ path: String, _ arguments: [String], input: String) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let stdin = Pipe()
    process.standardInput = stdin
    try process.run()
    stdin.fileHandleForWriting.write(Data(input.utf8))
    try stdin.fileHandleForWriting.close()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0, "\(arguments.first ?? path) exited with \(process.terminationStatus)")
}

@Suite("Migrations on SQLite")
struct SQLiteMigrationTests {
    @Test func freshDatabaseMatchesPIXLSchema() async throws { try await MigrationScenarios.freshDatabase(.sqlite) }

    @Test(arguments: MigrationScenarios.pixlRevisions)
    func upgradesFromPIXLRevisionKeepingRows(revision: String) async throws {
        try await MigrationScenarios.upgradeFromPIXLRevision(.sqlite, revision: revision)
    }

    @Test func unknownRevisionStopsWithNothingChanged() async throws { try await MigrationScenarios.unknownRevision(.sqlite) }
    @Test func failingRevisionRollsBack() async throws { try await MigrationScenarios.failingRevisionRollsBack(.sqlite) }
    @Test func downgradeIsRefused() async throws { try await MigrationScenarios.downgradeRefused(.sqlite) }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/sqlite3"), "sqlite3 CLI not installed"))
    func printedSQLBuildsTheSameSchema() async throws { try await MigrationScenarios.printedSQLBuildsTheSameSchema(.sqlite) }
}

@Suite("Migrations on PostgreSQL", .enabled(if: LiveService.postgres.isEnabled, LiveService.postgres.skipMessage))
struct PostgresMigrationTests {
    @Test func freshDatabaseMatchesPIXLSchema() async throws { try await MigrationScenarios.freshDatabase(.postgres) }

    @Test(arguments: MigrationScenarios.pixlRevisions)
    func upgradesFromPIXLRevisionKeepingRows(revision: String) async throws {
        try await MigrationScenarios.upgradeFromPIXLRevision(.postgres, revision: revision)
    }

    @Test func unknownRevisionStopsWithNothingChanged() async throws { try await MigrationScenarios.unknownRevision(.postgres) }
    @Test func failingRevisionRollsBack() async throws { try await MigrationScenarios.failingRevisionRollsBack(.postgres) }
    @Test func downgradeIsRefused() async throws { try await MigrationScenarios.downgradeRefused(.postgres) }
    @Test func printedSQLBuildsTheSameSchema() async throws { try await MigrationScenarios.printedSQLBuildsTheSameSchema(.postgres) }
}

@Suite("Migration SQL and configuration")
struct MigrationSQLTests {
    @Test func printsAlembicStyleScript() throws {
        let script = try Database.migrationSQL(dialect: .postgres, schema: "pipeline")
        #expect(script.contains("CREATE SCHEMA IF NOT EXISTS pipeline;"))
        #expect(
            script.contains(
                "CREATE TABLE pipeline.alembic_version (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));"
            )
        )
        #expect(script.contains("-- Running upgrade  -> bcaef54e2bfe, Create extract and image tables"))
        #expect(script.contains("INSERT INTO pipeline.alembic_version (version_num) VALUES ('bcaef54e2bfe');"))
        #expect(
            script.contains(
                "UPDATE pipeline.alembic_version SET version_num='cb5ee12a6e20' WHERE alembic_version.version_num = 'bcaef54e2bfe';"
            )
        )
        #expect(script.contains("ALTER TABLE pipeline.image RENAME COLUMN hashed_identifier TO pseudo_study_uid;"))
        #expect(script.components(separatedBy: "BEGIN;").count - 1 == Revisions.all.count)
        #expect(script.components(separatedBy: "COMMIT;").count - 1 == Revisions.all.count)

        let partial = try Database.migrationSQL(dialect: .postgres, schema: "pixl_pipeline", from: "83dcb3812628", to: "d947cc715eb1")
        #expect(!partial.contains("CREATE TABLE"))
        #expect(partial.contains("ALTER TABLE pixl_pipeline.image ADD COLUMN pseudo_patient_id VARCHAR(255);"))
        #expect(partial.components(separatedBy: "BEGIN;").count == 2)

        #expect(throws: DatabaseError.self) { try Database.migrationSQL(dialect: .sqlite, to: "nope") }
    }

    @Test func revisionIDsAreAlembicsAndInOrder() {
        #expect(Revisions.all.prefix(4).map(\.id) == ["bcaef54e2bfe", "cb5ee12a6e20", "83dcb3812628", "d947cc715eb1"])
        #expect(Set(Revisions.all.map(\.id)).count == Revisions.all.count)
        #expect(Revisions.all.allSatisfy { $0.id.utf8.count <= 32 })
    }

    @Test func configurationFromEnvironment() throws {
        let sqlite = try DatabaseConfiguration(environment: [:])
        #expect(sqlite.backend == .sqlite(path: "pixl-imaging.sqlite"))
        #expect(sqlite.schema == "pipeline")
        #expect(sqlite.connectRetryTimeout == .seconds(30))

        let postgres = try DatabaseConfiguration(environment: [
            "PIXL_DB_HOST": "db", "PIXL_DB_USER": "pixl", "PIXL_DB_PASSWORD": "secret", "PIXL_DB_NAME": "pixl",
            "PIXL_DB_SCHEMA": "pixl_pipeline", "PIXL_DB_CONNECT_TIMEOUT": "2.5", "PIXL_DB_PATH": "ignored",
        ])
        #expect(postgres.backend == .postgres(.init(host: "db", port: 5432, username: "pixl", password: "secret", database: "pixl")))
        #expect(postgres.schema == "pixl_pipeline")
        #expect(postgres.connectRetryTimeout == .milliseconds(2500))

        for (environment, variable) in [
            (["PIXL_DB_HOST": "db", "PIXL_DB_USER": "u", "PIXL_DB_PORT": "99999"], "PIXL_DB_PORT"),
            (["PIXL_DB_HOST": "db"], "PIXL_DB_USER"),
            (["PIXL_DB_SCHEMA": "Pipeline; DROP"], "PIXL_DB_SCHEMA"),
            (["PIXL_DB_CONNECT_TIMEOUT": "soon"], "PIXL_DB_CONNECT_TIMEOUT"),
        ] {
            let error = #expect(throws: DatabaseError.self) { try DatabaseConfiguration(environment: environment) }
            #expect(error?.code == .invalidConfiguration)
            #expect(error?.description.hasPrefix(variable) == true, "\(error?.description ?? "")")
            #expect(error?.description.contains("\n") == false)
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func unreachableServerFailsNamingTheHost() async throws {
        let configuration = DatabaseConfiguration(
            backend: .postgres(.init(host: "127.0.0.1", port: 1, username: "nobody")),
            connectRetryTimeout: .seconds(1)
        )
        let error = await #expect(throws: DatabaseError.self) { try await Database.migrate(configuration, logger: testLogger) }
        #expect(error?.code == .unreachable)
        #expect(error?.description.contains("127.0.0.1:1") == true)
    }
}
