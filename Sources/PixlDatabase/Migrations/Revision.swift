/// The SQL flavour a revision is written for.
public enum SQLDialect: String, Sendable, Hashable {
    case postgres
    case sqlite
}

/// One schema revision: an id recorded in `alembic_version` and the DDL that reaches it from its parent.
///
/// Revisions form a single line (no branches). Each is applied in its own transaction together with the
/// update of `alembic_version`, so a failure leaves the database at the previous revision.
public struct Revision: Sendable, Identifiable {
    /// The id stored in `alembic_version.version_num` (at most 32 characters).
    public let id: String
    /// What the revision does, for logs and `--sql` output.
    public let summary: String
    let makeStatements: @Sendable (_ dialect: SQLDialect, _ tables: TableNames) -> [String]

    init(id: String, summary: String, statements: @escaping @Sendable (_ dialect: SQLDialect, _ tables: TableNames) -> [String]) {
        precondition(id.utf8.count <= 32, "alembic_version.version_num is VARCHAR(32)")
        self.id = id
        self.summary = summary
        self.makeStatements = statements
    }

    /// The statements of this revision (without the `alembic_version` bookkeeping).
    public func statements(dialect: SQLDialect, schema: String) -> [String] {
        makeStatements(dialect, TableNames(dialect: dialect, schema: schema))
    }
}

/// Qualified table names: `schema.table` on PostgreSQL, bare names on SQLite (which has no schemas).
struct TableNames: Sendable {
    let dialect: SQLDialect
    let schema: String

    func qualified(_ table: String) -> String {
        switch dialect {
        case .postgres: "\(schema).\(table)"
        case .sqlite: table
        }
    }

    var extract: String { qualified("extract") }
    var image: String { qualified("image") }
    var alembicVersion: String { qualified("alembic_version") }
    var imagingJob: String { qualified("imaging_job") }
}
