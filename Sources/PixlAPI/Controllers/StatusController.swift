import Foundation
import Hummingbird
import PixlCore

/// `/status`: counts by state, the rate, this process's workers and the next due job (SPEC §5).
struct StatusController<Store: JobStore, C: Clock<Duration>> {
    let store: Store
    let rateGate: TokenBucket<C>
    let activity: WorkerActivity

    func addRoutes(to routes: Routes<some RouterMethods<APIContext>>) {
        routes.on("/status", .get, use: status)
    }

    @Sendable func status(_ request: Request, context: APIContext) async throws -> Response {
        let counts = try await store.countsByState()
        let nextDue = try await store.nextDueDate()
        let rate = await rateGate.rate
        let now = Date()
        var oldest: PythonJSON = .null
        if let nextDue, nextDue <= now {
            oldest = .object([
                (key: "due_since", value: .string(ISO8601UTC.format(nextDue))),
                (key: "age_seconds", value: .float((now.timeIntervalSince(nextDue) * 1000).rounded() / 1000)),
            ])
        }
        let body = PythonJSON.object([
            (key: "counts", value: .object(JobState.allCases.map { (key: $0.rawValue, value: .int(String(counts[$0] ?? 0))) })),
            (key: "waiting", value: .int(String(counts.waiting))),
            (key: "rate", value: .float(rate)),
            (key: "paused", value: .bool(rate == 0)),
            (key: "in_flight", value: .int(String(activity.inFlight))),
            (key: "max_in_flight", value: .int(String(activity.maxInFlight))),
            (key: "accepting", value: .bool(activity.isAccepting)),
            (key: "oldest_waiting", value: oldest),
            (key: "next_due_at", value: nextDue.map { .string(ISO8601UTC.format($0)) } ?? .null),
        ])
        return JSONAnswer.json(.ok, body.serialized())
    }
}

extension [JobState: Int] {
    /// Jobs waiting to run: queued, retry or deferred.
    var waiting: Int { self[.queued, default: 0] + self[.retry, default: 0] + self[.deferred, default: 0] }
}
