public import Hummingbird
public import HummingbirdAuth
public import PixlCore


/// Builds the router of the HTTP API (SPEC §5).
///
/// ```swift
/// let router = buildRouter(store: store, lanes: lanes, events: events, activity: activity,
///                          metrics: metrics, configuration: APIConfiguration(apiToken: token))
/// let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 8000)))
/// ```
/// - Parameters:
///   - store: where messages are enqueued and jobs read.
///   - lanes: the archives' lanes the workers claim through; `/lanes` shows and sets them, `/token-bucket-refresh-rate`
///     sets both lanes' rate.
///   - events: where the API publishes what it enqueued.
///   - activity: this process's workers, for `/status` and `/metrics`.
///   - metrics: the registry `/metrics` exposes.
///   - readiness: what `GET /ready` checks besides the store (orthanc-raw, the RabbitMQ intake).
///   - configuration: the bearer token, size limits and the store's deadline.
public func buildRouter<Store: JobStore, C: Clock<Duration>>(
    store: Store,
    lanes: Lanes<C>,
    events: JobEvents,
    activity: WorkerActivity,
    metrics: PixlMetrics,
    readiness: [ReadinessProbe] = [],
    configuration: APIConfiguration
) -> Router<APIContext> {
    makeRouter(
        store: store, lanes: lanes, events: events, activity: activity, metrics: metrics, readiness: readiness,
        configuration: configuration
    ).router
}

/// ``buildRouter(store:lanes:events:activity:metrics:configuration:)``, and the table of the routes it serves.
func makeRouter<Store: JobStore, C: Clock<Duration>>(
    store: Store,
    lanes: Lanes<C>,
    events: JobEvents,
    activity: WorkerActivity,
    metrics: PixlMetrics,
    readiness: [ReadinessProbe] = [],
    configuration: APIConfiguration
) -> (router: Router<APIContext>, routes: RouteTable) {
    let deadline = StoreDeadline(duration: configuration.storeDeadline)
    let router = Router(context: APIContext.self)
    let table = RouteTable()
    router.add(middleware: MetricsMiddleware())
    router.add(middleware: PIXLRoutingMiddleware(routes: table, defaultAuthority: configuration.defaultAuthority))
    router.add(middleware: DetailErrorMiddleware())

    let open = Routes(group: router.group(), table: table)
    let authenticated = router.group()
    if let token = configuration.apiToken {
        authenticated.add(middleware: BearerTokenAuthenticator(token: token)).add(middleware: IsAuthenticatedMiddleware())
    }
    let protected = Routes(group: authenticated, table: table)

    ServiceController().addLivenessRoutes(to: open)
    ReadinessController(probes: [ReadinessProbe(name: "database", check: store.ping)] + readiness, deadline: deadline).addRoutes(to: open)
    MetricsController(store: store, lanes: lanes, activity: activity, metrics: metrics, deadline: deadline).addRoutes(to: open)
    ServiceController().addDocumentationRoutes(to: protected)
    RateController(lanes: lanes, maxBodySize: configuration.maxBodySize).addRoutes(to: protected)
    LanesController(store: store, lanes: lanes, maxBodySize: configuration.maxBodySize, deadline: deadline).addRoutes(to: protected)
    MessagesController(store: store, events: events, configuration: configuration).addRoutes(to: protected)
    ReportController(store: store, deadline: deadline).addRoutes(to: protected)
    let actions = ProjectActions(store: store, events: events, deadline: deadline)
    ProjectActionsController(actions: actions).addRoutes(to: protected)
    // The console authenticates with its own session cookie (a browser sends no bearer token).
    ConsoleController(
        store: store, lanes: lanes, actions: actions, activity: activity, throughput: ConsoleThroughput(events: events),
        configuration: configuration, deadline: deadline, library: ConsoleTemplates.compiled
    ).addRoutes(to: open)
    StatusController(store: store, lanes: lanes, activity: activity, deadline: deadline).addRoutes(to: protected)
    return (router, table)
}
