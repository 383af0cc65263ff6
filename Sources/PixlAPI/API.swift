public import Hummingbird
public import HummingbirdAuth
public import PixlCore


/// Builds the router of the HTTP API (SPEC §5).
///
/// ```swift
/// let router = buildRouter(store: store, rateGate: bucket, events: events, activity: activity,
///                          metrics: metrics, configuration: APIConfiguration(apiToken: token))
/// let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 8000)))
/// ```
/// - Parameters:
///   - store: where messages are enqueued and jobs read.
///   - rateGate: the token bucket the workers take from; `/token-bucket-refresh-rate` reads and sets its rate.
///   - events: where the API publishes what it enqueued and the rates it set.
///   - activity: this process's workers, for `/status` and `/metrics`.
///   - metrics: the registry `/metrics` exposes.
///   - configuration: the bearer token and size limits.
public func buildRouter<Store: JobStore, C: Clock<Duration>>(
    store: Store,
    rateGate: TokenBucket<C>,
    events: JobEvents,
    activity: WorkerActivity,
    metrics: PixlMetrics,
    configuration: APIConfiguration
) -> Router<APIContext> {
    makeRouter(store: store, rateGate: rateGate, events: events, activity: activity, metrics: metrics, configuration: configuration).router
}

/// ``buildRouter(store:rateGate:events:activity:metrics:configuration:)``, and the table of the routes it serves.
func makeRouter<Store: JobStore, C: Clock<Duration>>(
    store: Store,
    rateGate: TokenBucket<C>,
    events: JobEvents,
    activity: WorkerActivity,
    metrics: PixlMetrics,
    configuration: APIConfiguration
) -> (router: Router<APIContext>, routes: RouteTable) {
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
    MetricsController(store: store, rateGate: rateGate, activity: activity, metrics: metrics).addRoutes(to: open)
    ServiceController().addDocumentationRoutes(to: protected)
    RateController(rateGate: rateGate, events: events, maxBodySize: configuration.maxBodySize).addRoutes(to: protected)
    MessagesController(store: store, events: events, configuration: configuration).addRoutes(to: protected)
    StatusController(store: store, rateGate: rateGate, activity: activity).addRoutes(to: protected)
    return (router, table)
}
