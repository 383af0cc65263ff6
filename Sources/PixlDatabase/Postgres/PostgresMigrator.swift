import Foundation
public import Logging
public import PostgresNIO

/// Applies ``Revisions`` to a PostgreSQL database, one transaction per revision.
///
/// Each transaction takes an advisory lock, reads `<schema>.alembic_version`, applies the next revision and
/// updates the version, so replicas starting together migrate once, in order.
public struct PostgresMigrator: Sendable {
    public let client: PostgresClient
    public let schema: String

    /// - Parameters:
    ///   - client: A client whose `run()` is being awaited elsewhere.
    ///   - schema: A plain lower-case identifier (``DatabaseConfiguration`` checks it).
    public init(client: PostgresClient, schema: String) {
        precondition(DatabaseConfiguration.isPlainIdentifier(schema), "schema must be a plain SQL identifier")
        self.client = client
        self.schema = schema
    }

    /// Serialises migrations across replicas.
    static let migrationLockKey: Int64 = 0x5049_584C_0000  // "PIXL" 0

    /// Upgrades to `target` (`nil`: head).
    /// - Throws: ``DatabaseError`` ``DatabaseError/Code/unknownRevision`` (nothing changed) for an unknown database or
    ///   target revision; ``DatabaseError/Code/downgradeNotSupported``; ``DatabaseError/Code/migrationFailed`` when a
    ///   revision fails (it is rolled back, earlier ones stay).
    @discardableResult
    public func upgrade(to target: String? = nil, logger: Logger) async throws -> MigrationReport {
        _ = try MigrationPlanner.targetIndex(target)
        let start = try await client.withConnection { try await Self.versions(on: $0, schema: schema, logger: logger)?.first }
        var applied: [String] = []
        while true {
            let step: MigrationStep? = try await client.withUnwrappedTransaction(logger: logger) { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(\(Self.migrationLockKey))", logger: logger)
                let versions = try await Self.versions(on: connection, schema: schema, logger: logger)
                guard let step = try MigrationPlanner.nextStep(versions: versions, target: target, dialect: .postgres, schema: schema)
                else { return nil }
                do {
                    for statement in step.statements {
                        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                    }
                } catch {
                    throw DatabaseError(
                        .migrationFailed,
                        "revision \(step.revision.id) (\(step.revision.summary)) failed and was rolled back",
                        underlying: error
                    )
                }
                return step
            }
            guard let step else { break }
            logger.info(
                "Applied revision",
                metadata: [
                    "pixl.db.revision": "\(step.revision.id)", "pixl.db.from": "\(step.from ?? "-")", "pixl.db.backend": "postgres",
                    "pixl.db.schema": "\(schema)",
                ]
            )
            applied.append(step.revision.id)
        }
        let end = try await client.withConnection { try await Self.versions(on: $0, schema: schema, logger: logger)?.first }
        return MigrationReport(from: start, to: end, applied: applied)
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
        for try await (version) in try await connection.query("SELECT version_num FROM \(unescaped: table)", logger: logger).decode(
            String.self
        ) {
            versions.append(version)
        }
        return versions
    }
}
