import Foundation
import GRDB
import Logging
import PixlCore
import PixlTesting
import PostgresNIO
import Testing

@testable import PixlDatabase

/// The backends every store and migration test runs on.
enum Backend: String, CustomStringConvertible {
    case sqlite
    case postgres
    var description: String { rawValue }
}

/// The PostgreSQL server of `scripts/postgres up`: PIXL_TEST_DB_HOST/PORT/USER/PASSWORD/NAME of its settings.
enum TestPostgres {
    static func server() throws -> DatabaseConfiguration.Postgres {
        let settings = try LiveService.postgres.settings()
        guard let host = settings["PIXL_TEST_DB_HOST"] else { throw LiveService.NotRunning(service: .postgres) }
        return DatabaseConfiguration.Postgres(
            host: host,
            port: Int(settings["PIXL_TEST_DB_PORT"] ?? "") ?? 5432,
            username: settings["PIXL_TEST_DB_USER"] ?? "postgres",
            password: settings["PIXL_TEST_DB_PASSWORD"],
            database: settings["PIXL_TEST_DB_NAME"] ?? "pixl_test"
        )
    }
}

let testLogger: Logger = {
    var logger = Logger(label: "pixl.db.tests")
    logger.logLevel = .warning
    return logger
}()

/// A fresh, empty database for one test: a SQLite file in a temporary directory, or a new schema on the lab server.
struct TestDatabase {
    let backend: Backend
    let configuration: DatabaseConfiguration
    private let directory: URL?

    /// Creates the database, runs `body`, and removes the database (file or schema) afterwards.
    static func with<R>(_ backend: Backend, _ body: (TestDatabase) async throws -> R) async throws -> R {
        let database = try make(backend)
        do {
            let result = try await body(database)
            try await database.destroy()
            return result
        } catch {
            try? await database.destroy()
            throw error
        }
    }

    private static func make(_ backend: Backend) throws -> TestDatabase {
        switch backend {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pixl-db-test-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            return TestDatabase(
                backend: backend,
                configuration: DatabaseConfiguration(backend: .sqlite(path: directory.appendingPathComponent("jobs.sqlite").path)),
                directory: directory
            )
        case .postgres:
            let server = try TestPostgres.server()
            let schema = "t_" + UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: "")
            return TestDatabase(
                backend: backend,
                configuration: DatabaseConfiguration(backend: .postgres(server), schema: schema, connectRetryTimeout: .seconds(5)),
                directory: nil
            )
        }
    }

    private func destroy() async throws {
        switch configuration.backend {
        case .sqlite:
            if let directory { try? FileManager.default.removeItem(at: directory) }
        case .postgres(let server):
            try await Database.withPostgresClient(server, retryFor: .seconds(5), logger: testLogger) { client in
                try await client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA IF EXISTS \(configuration.schema) CASCADE"))
            }
        }
    }

    /// Environment for a child process (`pixl-imaging store`) pointing at this database.
    var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        for key in environment.keys where key.hasPrefix("PIXL_DB_") { environment[key] = nil }
        switch configuration.backend {
        case .sqlite(let path):
            environment["PIXL_DB_PATH"] = path
        case .postgres(let server):
            environment["PIXL_DB_HOST"] = server.host
            environment["PIXL_DB_PORT"] = String(server.port)
            environment["PIXL_DB_USER"] = server.username
            if let password = server.password { environment["PIXL_DB_PASSWORD"] = password }
            if let database = server.database { environment["PIXL_DB_NAME"] = database }
            environment["PIXL_DB_SCHEMA"] = configuration.schema
        }
        return environment
    }

    /// `schema.table` on PostgreSQL, `table` on SQLite.
    func table(_ name: String) -> String {
        backend == .postgres ? "\(configuration.schema).\(name)" : name
    }

    @discardableResult
    func migrate(to target: String? = nil) async throws -> MigrationReport {
        try await Database.migrate(configuration, to: target, logger: testLogger)
    }

    func withStore<R: Sendable>(_ body: (any JobStore) async throws -> R) async throws -> R {
        try await Database.withJobStore(configuration, logger: testLogger, body)
    }

    /// Runs statements outside the store (fixtures), each on its own.
    func execute(_ statements: String...) async throws {
        switch configuration.backend {
        case .sqlite(let path):
            let queue = try DatabaseQueue(path: path)
            try await queue.write { db in for statement in statements { try db.execute(sql: statement) } }
        case .postgres(let server):
            try await Database.withPostgresClient(server, retryFor: .seconds(5), logger: testLogger) { client in
                for statement in statements { try await client.query(PostgresQuery(unsafeSQL: statement)) }
            }
        }
    }

    /// Runs a query whose columns are all text (cast them), returning rows of optional strings.
    func rows(_ sql: String) async throws -> [[String?]] {
        switch configuration.backend {
        case .sqlite(let path):
            let queue = try DatabaseQueue(path: path)
            return try await queue.read { db in
                try Row.fetchAll(db, sql: sql).map { row in row.databaseValues.map { String.fromDatabaseValue($0) ?? ($0.isNull ? nil : $0.description) } }
            }
        case .postgres(let server):
            return try await Database.withPostgresClient(server, retryFor: .seconds(5), logger: testLogger) { client in
                var result: [[String?]] = []
                for try await row in try await client.query(PostgresQuery(unsafeSQL: sql)) {
                    result.append(try row.map { cell in try cell.decode(String?.self) })
                }
                return result
            }
        }
    }

    func scalar(_ sql: String) async throws -> String? {
        try await rows(sql).first?.first ?? nil
    }
}

/// Messages for tests; `index` makes them distinct.
func message(_ index: Int, project: String = "proj", series: String = "") -> ImagingMessage {
    .synthetic(index, project: project, series: series)
}
