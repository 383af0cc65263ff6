import Logging

/// What the ``Migrator`` needs of a database: the revision it is at, and one transaction that applies a step.
protocol MigrationDriver: Sendable {
    var dialect: SQLDialect { get }
    /// Where PIXL's tables live (PostgreSQL schema; unused on SQLite).
    var schema: String { get }

    /// The rows of `alembic_version`, or `nil` when the table does not exist.
    func versions() async throws -> [String]?

    /// In one transaction, serialised against other processes migrating the same database: reads
    /// `alembic_version`, asks `nextStep` what to apply, and runs that step's statements. A statement that
    /// fails rolls the transaction back and throws ``MigrationStep/failure(_:)``.
    func applyNextStep(_ nextStep: @Sendable ([String]?) throws(DatabaseError) -> MigrationStep?) async throws -> MigrationStep?
}

/// Applies ``Revisions`` to a database, one transaction per revision, until it is at the target.
struct Migrator<Driver: MigrationDriver> {
    let driver: Driver

    /// Upgrades to `target` (`nil`: head).
    /// - Throws: ``DatabaseError`` ``DatabaseError/Code/unknownRevision`` (nothing changed) for an unknown database or
    ///   target revision; ``DatabaseError/Code/downgradeNotSupported``; ``DatabaseError/Code/migrationFailed`` when a
    ///   revision fails (it is rolled back, earlier ones stay).
    func upgrade(to target: String?, logger: Logger) async throws -> MigrationReport {
        _ = try MigrationPlanner.targetIndex(target)
        let start = try await driver.versions()?.first
        var applied: [String] = []
        while let step = try await driver.applyNextStep({ versions throws(DatabaseError) in
            try MigrationPlanner.nextStep(versions: versions, target: target, dialect: driver.dialect, schema: driver.schema)
        }) {
            logger.info(
                "Applied revision",
                metadata: [
                    "pixl.db.revision": "\(step.revision.id)", "pixl.db.from": "\(step.from ?? "-")",
                    "pixl.db.backend": "\(driver.dialect.rawValue)", "pixl.db.schema": "\(driver.schema)",
                ]
            )
            applied.append(step.revision.id)
        }
        return MigrationReport(from: start, to: try await driver.versions()?.first, applied: applied)
    }
}

extension MigrationStep {
    /// The error for a statement of this step that failed (its transaction is rolled back).
    func failure(_ underlying: any Error) -> DatabaseError {
        DatabaseError(.migrationFailed, "revision \(revision.id) (\(revision.summary)) failed and was rolled back", underlying: underlying)
    }
}
