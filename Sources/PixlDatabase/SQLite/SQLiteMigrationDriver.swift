import GRDB

/// Migrations on SQLite: each step in one write transaction (SQLite serialises writers across processes).
struct SQLiteMigrationDriver: MigrationDriver {
    let pool: DatabasePool
    var dialect: SQLDialect { .sqlite }
    /// SQLite has no schemas; `main` is the name of the database file's own.
    var schema: String { "main" }

    func versions() async throws -> [String]? {
        try await pool.read { try Self.alembicVersions($0) }
    }

    func applyNextStep(_ nextStep: @Sendable ([String]?) throws(DatabaseError) -> MigrationStep?) async throws -> MigrationStep? {
        try await pool.write { db in
            guard let step = try nextStep(try Self.alembicVersions(db)) else { return nil }
            do {
                for statement in step.statements { try db.execute(sql: statement) }
            } catch {
                throw step.failure(error)
            }
            return step
        }
    }

    static func alembicVersions(_ db: GRDB.Database) throws -> [String]? {
        guard try db.tableExists("alembic_version") else { return nil }
        return try String.fetchAll(db, sql: "SELECT version_num FROM alembic_version")
    }
}
