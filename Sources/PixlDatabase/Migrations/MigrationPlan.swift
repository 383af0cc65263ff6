/// What `migrate` did: where the database was, where it is, and the revisions applied in between.
public struct MigrationReport: Sendable, Hashable {
    /// The revision before (`nil`: an empty database).
    public var from: String?
    /// The revision after.
    public var to: String?
    /// Ids of the revisions applied, oldest first; empty when the database was already there.
    public var applied: [String]

    public init(from: String?, to: String?, applied: [String]) {
        self.from = from
        self.to = to
        self.applied = applied
    }
}

/// One revision to apply, with all the SQL of its transaction (bookkeeping included).
struct MigrationStep: Sendable {
    let revision: Revision
    let from: String?
    let statements: [String]
}

/// Backend-neutral migration logic: deciding the next revision, and the SQL of each step.
enum MigrationPlanner {
    /// Checks that `target` (`nil`: head) is a known revision.
    static func targetIndex(_ target: String?) throws(DatabaseError) -> Int {
        guard let target else { return Revisions.all.count - 1 }
        guard let index = Revisions.all.firstIndex(where: { $0.id == target }) else {
            throw DatabaseError(
                .unknownRevision,
                "--to '\(target)' is not a known revision (known: \(Revisions.all.map(\.id).joined(separator: ", ")))"
            )
        }
        return index
    }

    /// The version recorded in `alembic_version` rows, checked to be known.
    /// - Parameters:
    ///   - versions: the rows, or `nil` when the table does not exist.
    ///   - location: where the table is, for the message (`pipeline.alembic_version`).
    static func currentIndex(versions: [String]?, location: String) throws(DatabaseError) -> Int? {
        guard let versions, !versions.isEmpty else { return nil }
        guard versions.count == 1, let version = versions.first else {
            throw DatabaseError(
                .unknownRevision,
                "\(location) holds \(versions.count) revisions (\(versions.joined(separator: ", "))): branched histories are not supported; nothing was changed"
            )
        }
        guard let index = Revisions.all.firstIndex(where: { $0.id == version }) else {
            throw DatabaseError(
                .unknownRevision,
                "the database is at revision '\(version)' (\(location)), which this pixl-imaging does not know "
                    + "(known: \(Revisions.all.map(\.id).joined(separator: ", "))); nothing was changed"
            )
        }
        return index
    }

    /// The next step from the database's state towards `target`, or `nil` when it is there.
    static func nextStep(
        versions: [String]?,
        target: String?,
        dialect: SQLDialect,
        schema: String
    ) throws(DatabaseError) -> MigrationStep? {
        let names = TableNames(dialect: dialect, schema: schema)
        let targetIndex = try targetIndex(target)
        let current = try currentIndex(versions: versions, location: names.alembicVersion)
        if let current, current > targetIndex {
            throw DatabaseError(
                .downgradeNotSupported,
                "the database is at revision '\(Revisions.all[current].id)', after '\(Revisions.all[targetIndex].id)': downgrades are not supported; nothing was changed"
            )
        }
        let nextIndex = (current ?? -1) + 1
        guard nextIndex <= targetIndex else { return nil }
        let revision = Revisions.all[nextIndex]
        let from = current.map { Revisions.all[$0].id }
        var statements: [String] = []
        if versions == nil { statements += bootstrapStatements(dialect: dialect, names: names) }
        statements += revision.statements(dialect: dialect, schema: schema)
        statements.append(versionStatement(to: revision.id, from: from, names: names))
        return MigrationStep(revision: revision, from: from, statements: statements)
    }

    /// Creates the schema (PostgreSQL) and `alembic_version` as alembic does.
    static func bootstrapStatements(dialect: SQLDialect, names: TableNames) -> [String] {
        var statements: [String] = []
        if dialect == .postgres { statements.append("CREATE SCHEMA IF NOT EXISTS \(names.schema)") }
        statements.append(
            "CREATE TABLE \(names.alembicVersion) (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
        )
        return statements
    }

    /// alembic's bookkeeping: an INSERT for the first revision, an UPDATE after.
    static func versionStatement(to revision: String, from: String?, names: TableNames) -> String {
        if let from {
            "UPDATE \(names.alembicVersion) SET version_num='\(revision)' WHERE alembic_version.version_num = '\(from)'"
        } else {
            "INSERT INTO \(names.alembicVersion) (version_num) VALUES ('\(revision)')"
        }
    }

    /// The SQL script from `from` (`nil`: an empty database) to `target` (`nil`: head), one transaction per revision,
    /// as alembic's offline mode (`alembic upgrade --sql`) prints it.
    static func script(dialect: SQLDialect, schema: String, from: String?, to target: String?) throws(DatabaseError) -> String {
        let names = TableNames(dialect: dialect, schema: schema)
        var versions: [String]? = from.map { [$0] }
        var lines = ["-- pixl-imaging migrate --sql (\(dialect.rawValue), \(dialect == .postgres ? "schema \(schema)" : "no schema"))"]
        while let step = try nextStep(versions: versions, target: target, dialect: dialect, schema: schema) {
            lines.append("")
            lines.append("-- Running upgrade \(step.from ?? "") -> \(step.revision.id), \(step.revision.summary)")
            lines.append("BEGIN;")
            for statement in step.statements { lines.append(statement + ";") }
            lines.append("COMMIT;")
            versions = [step.revision.id]
        }
        _ = names
        return lines.joined(separator: "\n") + "\n"
    }
}
