import HTTPTypes
import Hummingbird
import NIOCore
import PixlCore

/// `/metrics`: the Prometheus text format. Gauges that describe the store are read from it at scrape time.
struct MetricsController<Store: JobStore, C: Clock<Duration>> {
    let store: Store
    let lanes: Lanes<C>
    let activity: WorkerActivity
    let metrics: PixlMetrics
    let deadline: StoreDeadline

    func addRoutes(to routes: Routes<some RouterMethods<APIContext>>) {
        routes.on("/metrics", .get, use: scrape)
    }

    @Sendable func scrape(_ request: Request, context: APIContext) async throws -> Response {
        // A store that does not answer (in time) must not hide the other metrics.
        if let counts = try? await deadline.run({ try await store.counts().byState }) {
            metrics.setJobCounts(counts, waiting: counts.waiting)
        }
        metrics.setRate(lanes.primary.snapshot().rate)
        metrics.setLanes(lanes.all.map { $0.snapshot() })
        metrics.setInFlight(activity.inFlight)
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
    }
}
