import ArgumentParser
import Dispatch
import Foundation
import Logging
import Metrics
import Hummingbird
import PixlAPI
import PixlCore
import PixlService

/// `pixl-imaging serve`: the HTTP API and the rate-limited workers over the job store (SPEC §8).
///
/// Migrations run first unless `SKIP_ALEMBIC=true`. Spans are exported when an OTLP endpoint is set
/// (``OTLPBackend``). SIGTERM or SIGINT stops claiming, lets in-flight jobs finish (or releases them to the
/// store), stops the HTTP server, sends the last spans and exits 0.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the HTTP API and the workers (the default command)."
    )

    func run() async throws {
        let (configuration, environment) = try Startup.loadConfiguration()
        let database = try Startup.databaseConfiguration(environment)
        try await Startup.stopOnError { try ServeChecks.run(configuration, database: database) }
        let logger = Logger(label: "pixl-imaging")
        let otlp = try await Startup.stopOnError {
            try OTLPBackend.bootstrap(environment: ProcessInfo.processInfo.environment, logger: Logger(label: "pixl-imaging.otel"))
        }
        let metrics = PixlMetrics(alsoRecordingTo: otlp?.metrics)
        // Hummingbird's request metrics and ours land in the registry `/metrics` exposes (and the OTLP exporter's).
        MetricsSystem.bootstrap(metrics.factory)
        let app = try await Startup.stopOnError {
            try await buildApplication(configuration: configuration, database: database, metrics: metrics, services: otlp?.services ?? [], logger: logger)
        }
        logger.info(
            "serving",
            metadata: [
                "pixl.api": "\(configuration.api.host):\(configuration.api.port)",
                "pixl.primary": "\(configuration.primaryLane.rate)/s, \(configuration.primaryLane.maxInFlight) in flight",
                "pixl.secondary": "\(configuration.hasDistinctSecondary ? "\(configuration.secondaryLane.rate)/s, \(configuration.secondaryLane.maxInFlight) in flight" : "none")",
                "pixl.rabbitmq": "\(configuration.rabbitMQ.map { "\($0.host):\($0.port)/\($0.queue)" } ?? "off")",
            ]
        )
        let hangUp = CalendarReload.onHangUp(configuration, logger: logger)
        defer { hangUp.cancel() }
        try await app.runService()
    }
}
