import ArgumentParser
import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import PixlAPI
import PixlCore
import PixlDatabase
import PixlImaging
import PixlOrthanc
import PixlQueue

/// `pixl-imaging serve`: the HTTP API and the rate-limited workers over the job store (SPEC §8).
///
/// Migrations run first unless `SKIP_ALEMBIC=true`. SIGTERM or SIGINT stops claiming, lets in-flight
/// jobs finish (or releases them to the store), stops the HTTP server and exits 0.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the HTTP API and the workers (the default command)."
    )

    func run() async throws {
        let (configuration, environment) = try Startup.loadConfiguration()
        let logger = Logger(label: "pixl-imaging")
        let database: DatabaseConfiguration
        do {
            database = try DatabaseConfiguration(environment: environment.values)
        } catch {
            FileHandle.standardError.write(Data("pixl-imaging: configuration error: \(error)\n".utf8))
            throw ExitCode(2)
        }
        if !configuration.skipMigrations {
            try await Database.migrate(database, logger: logger)
        }
        try await Database.withJobStore(database, logger: logger) { store in
            try await Self.serve(store: store, configuration: configuration, logger: logger)
        }
    }

    /// Wires the store, the token bucket, the pipeline, the worker pool and the API, and runs them.
    static func serve(store: some JobStore, configuration: PixlConfiguration, logger: Logger) async throws {
        let metrics = PixlMetrics()
        let bucket = try TokenBucket(rate: configuration.api.initialRate, clock: ContinuousClock())
        metrics.setRate(configuration.api.initialRate)
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)
        let orthanc = HTTPOrthancClient(
            httpClient: httpClient,
            configuration: .init(configuration.orthancRaw, requestTimeout: configuration.queryTimeout),
            logger: logger,
            metrics: metrics
        )
        let pipeline = ArchivePipeline(orthanc: orthanc, configuration: .init(configuration), metrics: metrics)
        // The RabbitMQ intake hears of recorded jobs at once, to acknowledge their deliveries promptly.
        let (recordedJobs, recorded) = AsyncStream.makeStream(of: RecordedJob.self, bufferingPolicy: .bufferingNewest(4096))
        let onRecorded: @Sendable (UUID, JobState) -> Void = { id, state in recorded.yield(RecordedJob(id: id, state: state)) }
        let pool = WorkerPool(
            store: store,
            pipeline: pipeline,
            configuration: .init(
                maxInFlight: configuration.maxMessagesInFlight,
                retryPolicy: RetryPolicy(maxAttempts: configuration.maxAttempts),
                lease: configuration.jobLease
            ),
            takeToken: { try await bucket.take() },
            metrics: metrics,
            onRecorded: onRecorded,
            logger: logger
        )
        let maxInFlight = configuration.maxMessagesInFlight
        let status = StatusProvider(
            workerStatus: { WorkerStatus(inFlight: pool.inFlight, maxInFlight: maxInFlight, isAccepting: pool.isAccepting) },
            wakeWorkers: { pool.wakeUp() }
        )
        var app = buildApplication(
            store: store,
            bucket: bucket,
            status: status,
            metrics: metrics,
            configuration: APIConfiguration(
                apiToken: configuration.api.token,
                defaultAuthority: "\(configuration.api.host):\(configuration.api.port)"
            ),
            server: .init(address: .hostname(configuration.api.host, port: configuration.api.port)),
            logger: logger
        )
        app.addServices(pool)
        if let rabbitMQ = configuration.rabbitMQ {
            // After the pool: on shutdown the intake stops consuming before the pool drains.
            let intake = AMQPIntake(
                store: store,
                configuration: .init(rabbitMQ, prefetch: maxInFlight),
                recordedJobs: recordedJobs,
                onEnqueued: { pool.wakeUp() },
                metrics: metrics,
                logger: logger
            )
            app.addServices(intake)
        } else {
            recorded.finish()
        }
        logger.info(
            "serving",
            metadata: [
                "pixl.api": "\(configuration.api.host):\(configuration.api.port)",
                "pixl.rate": "\(configuration.api.initialRate)",
                "pixl.max_in_flight": "\(maxInFlight)",
                "pixl.rabbitmq": "\(configuration.rabbitMQ.map { "\($0.host):\($0.port)/\($0.queue)" } ?? "off")",
            ]
        )
        do {
            try await app.runService()
        } catch {
            try? await httpClient.shutdown()
            throw error
        }
        try await httpClient.shutdown()
    }
}
