import Foundation
public import Logging
public import PixlCore
public import PostgresNIO

extension DatabaseConfiguration.Postgres {
    /// postgres-nio client settings for this server (TLS disabled: the pipeline's database is on its private network).
    public func clientConfiguration() -> PostgresClient.Configuration {
        PostgresClient.Configuration(host: host, port: port, username: username, password: password, database: database, tls: .disable)
    }

    /// Connects once, retrying every second until `timeout` has passed, so a server still starting is waited for.
    ///
    /// Logs one `warning` line per failed attempt (host and port, no credentials).
    /// - Throws: ``DatabaseError`` ``DatabaseError/Code/unreachable`` naming the host once the window has passed.
    public func waitUntilReachable(timeout: Duration, logger: Logger) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        var attempt = 0
        var connectionConfiguration = PostgresConnection.Configuration(
            host: host,
            port: port,
            username: username,
            password: password,
            database: database,
            tls: .disable
        )
        connectionConfiguration.options.connectTimeout = .seconds(5)
        while true {
            attempt += 1
            do {
                let connection = try await PostgresConnection.connect(configuration: connectionConfiguration, id: attempt, logger: logger)
                try? await connection.close()
                return
            } catch {
                let remaining = deadline - clock.now
                if remaining <= .zero {
                    throw DatabaseError(
                        .unreachable,
                        "PostgreSQL at \(host):\(port) (PIXL_DB_HOST) is unreachable after \(attempt) attempts over \(timeout)",
                        underlying: error
                    )
                }
                logger.warning(
                    "PostgreSQL unreachable, retrying",
                    metadata: [
                        "pixl.db.host": "\(host)", "pixl.db.port": "\(port)", "pixl.db.attempt": "\(attempt)",
                        "pixl.db.error": "\(String(describing: error))",
                    ]
                )
                try await Task.sleep(for: min(.seconds(1), remaining))
            }
        }
    }
}

extension PostgresClient {
    /// `withTransaction`, rethrowing the closure's own error rather than postgres-nio's `PostgresTransactionError` wrapper
    /// (so a ``DatabaseError`` reaches the caller as itself).
    func withUnwrappedTransaction<Result>(
        logger: Logger,
        _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> sending Result {
        do {
            return try await withTransaction(logger: logger, body)
        } catch let error as PostgresTransactionError {
            if let closureError = error.closureError, error.beginError == nil, error.commitError == nil { throw closureError }
            throw error
        }
    }
}

/// Entry points that open the configured database, do one thing, and close it.
///
/// ```swift
/// let configuration = try DatabaseConfiguration(environment: ProcessInfo.processInfo.environment)
/// try await Database.migrate(configuration, logger: logger)          // at serve start, unless SKIP_ALEMBIC
/// try await Database.withJobStore(configuration, logger: logger) { store in … }
/// ```
public enum Database {
    /// Upgrades the configured database to `target` (`nil`: head), waiting for an unreachable PostgreSQL server
    /// for ``DatabaseConfiguration/connectRetryTimeout``.
    @discardableResult
    public static func migrate(_ configuration: DatabaseConfiguration, to target: String? = nil, logger: Logger) async throws
        -> MigrationReport
    {
        switch configuration.backend {
        case .sqlite(let path):
            return try await SQLiteJobStore(path: path, logger: logger).migrate(to: target, logger: logger)
        case .postgres(let server):
            return try await withPostgresClient(server, retryFor: configuration.connectRetryTimeout, logger: logger) { client in
                try await PostgresJobStore(client: client, schema: configuration.schema, logger: logger).migrate(to: target, logger: logger)
            }
        }
    }

    /// The revision the configured database is at (`nil`: empty).
    public static func currentRevision(_ configuration: DatabaseConfiguration, logger: Logger) async throws -> String? {
        switch configuration.backend {
        case .sqlite(let path):
            return try await SQLiteJobStore(path: path, logger: logger).currentRevision()
        case .postgres(let server):
            return try await withPostgresClient(server, retryFor: configuration.connectRetryTimeout, logger: logger) { client in
                try await PostgresJobStore(client: client, schema: configuration.schema, logger: logger).currentRevision()
            }
        }
    }

    /// The SQL that upgrades a database from `from` (`nil`: empty) to `target` (`nil`: head), without connecting.
    public static func migrationSQL(
        dialect: SQLDialect,
        schema: String = "pipeline",
        from: String? = nil,
        to target: String? = nil
    ) throws(DatabaseError) -> String {
        try MigrationPlanner.script(dialect: dialect, schema: schema, from: from, to: target)
    }

    /// Opens the configured job store (not migrating it), runs `body`, and closes it.
    public static func withJobStore<Result: Sendable>(
        _ configuration: DatabaseConfiguration,
        logger: Logger,
        _ body: (any JobStore) async throws -> Result
    ) async throws -> Result {
        switch configuration.backend {
        case .sqlite(let path):
            return try await body(SQLiteJobStore(path: path, logger: logger))
        case .postgres(let server):
            return try await withPostgresClient(server, retryFor: configuration.connectRetryTimeout, logger: logger) { client in
                try await body(PostgresJobStore(client: client, schema: configuration.schema, logger: logger))
            }
        }
    }

    /// Runs a `PostgresClient` for the duration of `body`, after waiting for the server to be reachable.
    public static func withPostgresClient<Result: Sendable>(
        _ server: DatabaseConfiguration.Postgres,
        retryFor timeout: Duration,
        logger: Logger,
        _ body: (PostgresClient) async throws -> Result
    ) async throws -> Result {
        try await server.waitUntilReachable(timeout: timeout, logger: logger)
        let client = PostgresClient(configuration: server.clientConfiguration(), backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            // Let run() start before the first lease (postgres-nio warns otherwise; it would still work).
            for _ in 0..<3 { await Task.yield() }
            return try await body(client)
        }
    }
}
