import Foundation
import Hummingbird
import PixlCore

/// `/status`: counts by state and by project, the rate (the primary lane's; `/lanes` has both), this process's workers
/// and the next due job (SPEC §5). Reads the counts the store keeps with its writes and one seek per lane and priority:
/// the same cost at a million jobs as at ten.
struct StatusController<Store: JobStore, C: Clock<Duration>> {
    let store: Store
    let lanes: Lanes<C>
    let activity: WorkerActivity
    let deadline: StoreDeadline

    func addRoutes(to routes: Routes<some RouterMethods<APIContext>>) {
        routes.on("/status", .get, use: status)
    }

    @Sendable func status(_ request: Request, context: APIContext) async throws -> Response {
        let (projects, nextDue) = try await deadline.run {
            var nextDue: Date?
            for lane in Lane.allCases {
                if let due = try await store.nextDueDate(in: lane) { nextDue = min(nextDue ?? due, due) }
            }
            return (try await store.counts(), nextDue)
        }
        let counts = projects.byState
        let primary = lanes.primary.snapshot()
        let rate = primary.paused ? 0 : primary.rate
        let now = Date()
        var oldest: JSONValue = .null
        if let nextDue, nextDue <= now {
            oldest = .object([
                "due_since": .string(ISO8601UTC.format(nextDue)),
                "age_seconds": .float((now.timeIntervalSince(nextDue) * 1000).rounded() / 1000),
            ])
        }
        let body = JSONValue.object([
            "counts": Self.json(counts),
            "projects": .object(projects.byProject.sorted { $0.key < $1.key }.map { JSONValue.Member(key: $0.key, value: Self.json($0.value)) }),
            "waiting": .integer(Int64(counts.waiting)),
            "rate": .float(rate),
            "paused": .bool(rate == 0),
            "in_flight": .integer(Int64(activity.inFlight)),
            "max_in_flight": .integer(Int64(activity.maxInFlight)),
            "accepting": .bool(activity.isAccepting),
            "oldest_waiting": oldest,
            "next_due_at": nextDue.map { .string(ISO8601UTC.format($0)) } ?? .null,
        ])
        return JSONAnswer.json(.ok, body.serialized())
    }

    /// Every state's count, in the states' order.
    private static func json(_ counts: [JobState: Int]) -> JSONValue {
        .object(JobState.allCases.map { JSONValue.Member(key: $0.rawValue, value: .integer(Int64(counts[$0] ?? 0))) })
    }
}

extension [JobState: Int] {
    /// Jobs waiting to run: queued, retry or deferred.
    var waiting: Int { self[.queued, default: 0] + self[.retry, default: 0] + self[.deferred, default: 0] }
}
