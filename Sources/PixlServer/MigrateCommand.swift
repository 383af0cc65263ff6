import ArgumentParser
import Foundation
import Logging
import PixlCore
import PixlDatabase

/// `pixl-imaging migrate`: upgrades the database (SQLite, or PostgreSQL when PIXL_DB_HOST is set) to a revision.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Upgrades the database schema (PIXL's alembic revisions, then the job tables).",
        discussion: """
            The database is PostgreSQL when PIXL_DB_HOST is set (PIXL_DB_PORT, PIXL_DB_USER, PIXL_DB_PASSWORD, \
            PIXL_DB_NAME, schema PIXL_DB_SCHEMA), else the SQLite file PIXL_DB_PATH. Each revision runs in its own \
            transaction; running it again is a no-op. Known revisions: \(Revisions.all.map(\.id).joined(separator: " → ")).
            """
    )

    @Option(name: .customLong("to"), help: ArgumentHelp("Revision to upgrade to (default: head).", valueName: "REV"))
    var target: String?

    @Flag(help: "Print the SQL instead of applying it (does not connect).")
    var sql = false

    @Option(help: ArgumentHelp("With --sql: the revision the database is at (default: empty database).", valueName: "REV"))
    var from: String?

    @Option(help: ArgumentHelp("With --sql: postgres or sqlite (default: from the environment).", valueName: "DIALECT"))
    var dialect: String?

    func run() async throws {
        let loaded = try await Startup.stopOnError { try Environment.load() }
        let environment = loaded.values
        let configuration = try Startup.databaseConfiguration(loaded)
        if sql {
            let chosen: SQLDialect
            if let dialect {
                guard let parsed = SQLDialect(rawValue: dialect) else {
                    throw ValidationError("--dialect must be postgres or sqlite, got '\(dialect)'")
                }
                chosen = parsed
            } else if case .postgres = configuration.backend {
                chosen = .postgres
            } else {
                chosen = .sqlite
            }
            print(try Database.migrationSQL(dialect: chosen, schema: configuration.schema, from: from, to: target), terminator: "")
            return
        }
        guard from == nil, dialect == nil else { throw ValidationError("--from and --dialect only apply with --sql") }
        var logger = Logger(label: "pixl.migrate")
        logger.logLevel = Logger.Level(rawValue: environment["LOG_LEVEL"]?.lowercased() ?? "info") ?? .info
        let report = try await Startup.stopOnError { try await Database.migrate(configuration, to: target, logger: logger) }
        if report.applied.isEmpty {
            print("Already at \(report.to ?? "base"): nothing to do.")
        } else {
            print("Upgraded \(report.from ?? "empty database") → \(report.to ?? "?"): applied \(report.applied.joined(separator: ", ")).")
        }
    }
}
