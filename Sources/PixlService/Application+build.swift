import AsyncHTTPClient
import HummingbirdCore
import Foundation
public import Hummingbird
public import Logging
public import PixlAPI
public import PixlCore
public import PixlDatabase
import PixlImaging
import PixlOrthanc
import PixlQueue
import PostgresNIO
public import ServiceLifecycle

/// The whole service as one Hummingbird application: the HTTP API, the worker pool, the RabbitMQ intake when
/// configured, and the database client, run and stopped together (SIGTERM drains, see ``WorkerPool``).
public typealias PixlApplication = Application<RouterResponder<APIContext>>

/// Builds the service from its configuration, as `pixl-imaging serve` runs it: migrates the database (with
/// `SKIP_ALEMBIC`, checks it is migrated already), opens the job store it names (SQLite, or PostgreSQL whose client becomes one of the
/// services), and talks to orthanc-raw over HTTP.
///
/// ```swift
/// let app = try await buildApplication(configuration: configuration, database: database, metrics: PixlMetrics(), logger: logger)
/// try await app.runService()
/// ```
///
/// - Parameter services: services every other depends on (the tracing backend), started first and stopped last.
public func buildApplication(
    configuration: PixlConfiguration,
    database: DatabaseConfiguration,
    metrics: PixlMetrics,
    events: JobEvents = JobEvents(),
    services: [any Service] = [],
    logger: Logger
) async throws -> PixlApplication {
    if configuration.skipMigrations {
        let revision = try await Database.currentRevision(database, logger: logger)
        guard revision == Revisions.head else {
            throw DatabaseError(
                .schemaNotMigrated,
                "SKIP_ALEMBIC is true but the database is at revision \(revision ?? "none (empty)"), not \(Revisions.head): run pixl-imaging migrate"
            )
        }
    } else {
        try await Database.migrate(database, logger: logger)
    }
    // Opened before the HTTP client, which must be shut down once created.
    let store: any JobStore
    var services = services
    switch database.backend {
    case .sqlite(let path):
        store = try SQLiteJobStore(path: path, logger: logger)
    case .postgres(let server):
        try await server.waitUntilReachable(timeout: database.connectRetryTimeout, logger: logger)
        let client = PostgresClient(configuration: server.clientConfiguration(), backgroundLogger: logger)
        store = PostgresJobStore(client: client, schema: database.schema, logger: logger)
        services.append(client)
    }
    // A client of its own: HTTPClient.shared decompresses, and fails on Orthanc's gzipped answers (they compress
    // beyond its ratio limit). Without spans of its own: HTTPOrthancClient names each call's span by its route
    // template, where async-http-client's would carry the whole URL, whose Orthanc ids can lead to a patient.
    var clientConfiguration = HTTPClient.Configuration()
    clientConfiguration.tracing.tracer = nil
    let httpClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
    services.append(HTTPClientService(client: httpClient))
    let orthanc = HTTPOrthancClient(
        httpClient: httpClient,
        configuration: .init(configuration.orthancRaw, requestTimeout: configuration.queryTimeout),
        logger: logger,
        metrics: metrics
    )
    do {
        return try buildApplication(
            store: store, orthanc: orthanc, configuration: configuration, metrics: metrics, events: events, services: services, logger: logger
        )
    } catch {
        try? await httpClient.shutdown()
        throw error
    }
}

/// The RabbitMQ intake is not connected to the broker (for `/ready`).
struct IntakeDisconnected: Error {}

/// The most HTTP connections the API holds open; more wait in the listen backlog.
let maximumHTTPConnections = 512

/// Shuts an HTTP client down when the service stops, as async-http-client requires.
struct HTTPClientService: Service {
    let client: HTTPClient

    func run() async throws {
        // Cancelled or shut down gracefully: either way the client is done.
        try? await gracefulShutdown()
        try await client.shutdown()
    }
}

/// Assembles the service from its parts: what tests call with a real store, a fake Orthanc and their own clock.
///
/// - Parameters:
///   - store: the job store, already migrated.
///   - orthanc: orthanc-raw.
///   - clock: what the token bucket paces by and the workers sleep on.
///   - events: where the parts tell each other what happened to jobs; a test may listen too.
///   - services: services the others depend on (a database client), started first and stopped last.
public func buildApplication<Store: JobStore, Client: OrthancClient, C: Clock<Duration>>(
    store: Store,
    orthanc: Client,
    clock: C = ContinuousClock(),
    configuration: PixlConfiguration,
    metrics: PixlMetrics,
    events: JobEvents = JobEvents(),
    services: [any Service] = [],
    logger: Logger
) throws -> PixlApplication {
    let signals = LaneSignals()
    let lanes = try Lanes(
        configuration: configuration, clock: clock, logger: logger, onChange: signals.notify,
        onBreakerChange: metrics.recordBreakerChange(_:to:)
    )
    let maxInFlight = configuration.primaryLane.maxInFlight + (configuration.hasDistinctSecondary ? configuration.secondaryLane.maxInFlight : 0)
    let activity = WorkerActivity(maxInFlight: maxInFlight, events: events)
    metrics.follow(events)
    let pool = WorkerPool(
        store: store,
        pipeline: ArchivePipeline(orthanc: orthanc, configuration: .init(configuration), metrics: metrics, observer: lanes, clock: clock),
        configuration: .init(retryPolicy: RetryPolicy(maxAttempts: configuration.maxAttempts), lease: configuration.jobLease),
        lanes: lanes,
        events: events,
        signals: signals,
        clock: clock,
        logger: logger
    )
    // In start order; shutdown runs in reverse: the HTTP server, then the intake stops consuming before the pool
    // drains, then the database client.
    var all = services + [pool as any Service]
    var readiness = [ReadinessProbe(name: "orthanc_raw") { _ = try await orthanc.jobs() }]
    if let rabbitMQ = configuration.rabbitMQ {
        let intake = AMQPIntake(
            store: store,
            configuration: .init(rabbitMQ, prefetch: configuration.maxMessagesInFlight),
            events: events,
            metrics: metrics,
            logger: logger
        )
        all.append(intake)
        readiness.append(ReadinessProbe(name: "rabbitmq") { if !intake.isConnected { throw IntakeDisconnected() } })
    }
    let router = buildRouter(
        store: store,
        lanes: lanes,
        events: events,
        activity: activity,
        metrics: metrics,
        readiness: readiness,
        configuration: APIConfiguration(
            apiToken: configuration.api.token,
            defaultAuthority: "\(configuration.api.host):\(configuration.api.port)",
            consoleShowsIdentifiers: configuration.api.consoleShowsIdentifiers
        )
    )
    return Application(
        router: router,
        server: .http1(
            configuration: .init(
                additionalChannelHandlers: [HTTP10CloseHandler()],
                idleTimeout: .nanoseconds(Int64(configuration.api.idleTimeout.seconds * 1e9))
            )
        ),
        configuration: .init(
            address: .hostname(configuration.api.host, port: configuration.api.port),
            // Well under the default 1,024 open files, leaving room for the database, Orthanc and RabbitMQ.
            availableConnectionsDelegate: MaximumAvailableConnections(maximumHTTPConnections)
        ),
        services: all,
        logger: logger
    )
}
