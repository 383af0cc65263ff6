import PostgresNIO
import Logging

/// Migrations on PostgreSQL: each step in a transaction holding an advisory lock, so replicas starting
/// together migrate once, in order.
struct PostgresMigrationDriver: MigrationDriver {
    let client: PostgresClient
    let schema: String
    let logger: Logger
    var dialect: SQLDialect { .postgres }

    /// Serialises migrations across replicas.
    static let lockKey: Int64 = 0x5049_584C_0000  // "PIXL" 0

    func versions() async throws -> [String]? {
        try await client.withConnection { try await Self.versions(on: $0, schema: schema, logger: logger) }
    }

    func applyNextStep(_ nextStep: @Sendable ([String]?) throws(DatabaseError) -> MigrationStep?) async throws -> MigrationStep? {
        try await client.withUnwrappedTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.lockKey))", logger: logger)
            guard let step = try nextStep(try await Self.versions(on: connection, schema: schema, logger: logger)) else { return nil }
            do {
                for statement in step.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
            } catch {
                throw step.failure(error)
            }
            return step
        }
    }

    /// The rows of `<schema>.alembic_version`, or `nil` when the table does not exist.
    static func versions(on connection: PostgresConnection, schema: String, logger: Logger) async throws -> [String]? {
        let table = "\(schema).alembic_version"
        var exists = false
        for try await (name) in try await connection.query("SELECT to_regclass(\(table))::text", logger: logger).decode((String?).self) {
            exists = name != nil
        }
        guard exists else { return nil }
        var versions: [String] = []
        let rows = try await connection.query("SELECT version_num FROM \(unescaped: table)", logger: logger)
        for try await (version) in rows.decode(String.self) {
            versions.append(version)
        }
        return versions
    }
}
