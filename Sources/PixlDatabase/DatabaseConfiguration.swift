import PixlCore

/// Which database holds PIXL's tables and the job state, read from the environment (SPEC §6, §7).
///
/// `PIXL_DB_HOST` set selects PostgreSQL (`PIXL_DB_PORT` 5432, `PIXL_DB_USER`, `PIXL_DB_PASSWORD`,
/// `PIXL_DB_NAME`); otherwise an embedded SQLite file at `PIXL_DB_PATH` (`pixl-imaging.sqlite` in the
/// working directory). `PIXL_DB_SCHEMA` (`pipeline`) names the PostgreSQL schema.
///
/// ```swift
/// let configuration = try DatabaseConfiguration(environment: ProcessInfo.processInfo.environment)
/// ```
public struct DatabaseConfiguration: Sendable, Hashable {
    /// The database engine and where it is.
    public enum Backend: Sendable, Hashable {
        /// An embedded SQLite file (WAL journal).
        case sqlite(path: String)
        /// A PostgreSQL server.
        case postgres(Postgres)
    }

    /// How to reach a PostgreSQL server.
    public struct Postgres: Sendable, Hashable, CustomStringConvertible {
        public var host: String
        public var port: Int
        public var username: String
        /// Never logged.
        public var password: String?
        public var database: String?

        public init(host: String, port: Int = 5432, username: String, password: String? = nil, database: String? = nil) {
            self.host = host
            self.port = port
            self.username = username
            self.password = password
            self.database = database
        }

        /// `host:port/database`, without credentials.
        public var description: String { "\(host):\(port)/\(database ?? username)" }
    }

    // MARK: Member variables

    public var backend: Backend
    /// PostgreSQL schema holding `extract`, `image`, `alembic_version` and the job table; unused on SQLite.
    /// Default `pipeline` (PIXL renamed it `pixl_pipeline` in 2025).
    public var schema: String
    /// How long an unreachable PostgreSQL server is retried at start before giving up. Default 30 s.
    public var connectRetryTimeout: Duration

    // MARK: Initialization

    /// - Parameters:
    ///   - backend: SQLite file or PostgreSQL server.
    ///   - schema: PostgreSQL schema name: lower-case letters, digits and `_`, not starting with a digit.
    ///   - connectRetryTimeout: Retry window for an unreachable server at start (30 s).
    public init(backend: Backend, schema: String = "pipeline", connectRetryTimeout: Duration = .seconds(30)) {
        self.backend = backend
        self.schema = schema
        self.connectRetryTimeout = connectRetryTimeout
    }

    /// Reads `PIXL_DB_HOST`, `PIXL_DB_PORT`, `PIXL_DB_USER`, `PIXL_DB_PASSWORD`, `PIXL_DB_NAME`,
    /// `PIXL_DB_PATH`, `PIXL_DB_SCHEMA` and `PIXL_DB_CONNECT_TIMEOUT` (seconds).
    /// - Throws: ``DatabaseError`` with code ``DatabaseError/Code/invalidConfiguration`` and a one-line
    ///   message naming the variable.
    public init(environment: [String: String]) throws(DatabaseError) {
        func value(_ name: String) -> String? {
            guard let raw = environment[name] else { return nil }
            let trimmed = raw.trimmingWhitespace()
            return trimmed.isEmpty ? nil : trimmed
        }
        func invalid(_ name: String, _ problem: String) -> DatabaseError {
            DatabaseError(.invalidConfiguration, "\(name) \(problem)")
        }

        let schema = value("PIXL_DB_SCHEMA") ?? "pipeline"
        guard Self.isPlainIdentifier(schema) else {
            throw invalid("PIXL_DB_SCHEMA", "must be a lower-case SQL identifier (letters, digits, _; at most 63), got '\(schema)'")
        }
        let timeout: Duration
        do {
            timeout = try Environment(environment).seconds("PIXL_DB_CONNECT_TIMEOUT", default: 30, range: 0...3_600)
        } catch {
            throw invalid(error.variable, error.problem)
        }

        let backend: Backend
        if let host = value("PIXL_DB_HOST") {
            var port = 5432
            if let text = value("PIXL_DB_PORT") {
                guard let parsed = Int(text), (1...65535).contains(parsed) else {
                    throw invalid("PIXL_DB_PORT", "must be a port number (1-65535), got '\(text)'")
                }
                port = parsed
            }
            guard let user = value("PIXL_DB_USER") else {
                throw invalid("PIXL_DB_USER", "is required when PIXL_DB_HOST is set")
            }
            backend = .postgres(
                Postgres(host: host, port: port, username: user, password: environment["PIXL_DB_PASSWORD"], database: value("PIXL_DB_NAME"))
            )
        } else {
            backend = .sqlite(path: value("PIXL_DB_PATH") ?? "pixl-imaging.sqlite")
        }
        self.init(backend: backend, schema: schema, connectRetryTimeout: timeout)
    }

    /// Whether `name` can be written into SQL unquoted and means itself (PostgreSQL folds unquoted names to lower case).
    static func isPlainIdentifier(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.unicodeScalars.count <= 63,
            first == "_" || ("a"..."z").contains(first)
        else { return false }
        return name.unicodeScalars.allSatisfy { $0 == "_" || ("a"..."z").contains($0) || ("0"..."9").contains($0) }
    }
}
