import Foundation
import Hummingbird
import PixlCore

/// `/lanes` (issue 13): each archive's lane as the PACS manager would check it — its rate, jobs in flight, jobs waiting
/// in it, its window and next change, its circuit breaker — and `POST /lanes` to set one lane's rate or pause it.
struct LanesController<Store: JobStore, C: Clock<Duration>> {
    let store: Store
    let lanes: Lanes<C>
    let maxBodySize: Int
    let deadline: StoreDeadline

    func addRoutes(to routes: Routes<some RouterMethods<APIContext>>) {
        routes.on("/lanes", .get, use: list)
        routes.on("/lanes", .post, use: update)
    }

    @Sendable func list(_ request: Request, context: APIContext) async throws -> Response {
        let counts = try await deadline.run { try await store.counts() }
        let body = JSONValue.object(["lanes": .array(lanes.all.map { Self.json($0, counts: counts) })])
        return JSONAnswer.json(.ok, body.serialized())
    }

    /// `{"lane": "secondary", "rate": 0.5}`, `{"lane": "secondary", "paused": true}`, or both: answers the lane.
    @Sendable func update(_ request: Request, context: APIContext) async throws -> Response {
        let update = try LaneUpdate(body: try await request.collectBody(upTo: maxBodySize))
        let lane = lanes[update.lane]
        if let rate = update.rate { try await lane.setRate(rate) }
        if let paused = update.paused { lane.setPaused(paused) }
        let counts = try await deadline.run { try await store.counts() }
        return JSONAnswer.json(.ok, Self.json(lane, counts: counts).serialized())
    }

    static func json(_ lane: ArchiveLane<C>, counts: JobCounts) -> JSONValue {
        let snapshot = lane.snapshot()
        let jobs = counts.byLane[snapshot.lane] ?? [:]
        func time(_ date: Date?) -> JSONValue { date.map { .string(ISO8601UTC.format($0)) } ?? .null }
        return .object([
            "lane": .string(snapshot.lane.rawValue),
            "modality": lane.modality.map(JSONValue.string) ?? .null,
            "rate": .float(snapshot.rate),
            "configured_rate": .float(snapshot.configuredRate),
            "adaptive": .bool(snapshot.adaptive),
            "paused": .bool(snapshot.paused),
            "in_flight": .integer(Int64(snapshot.inFlight)),
            "max_in_flight": .integer(Int64(snapshot.maxInFlight)),
            "queued": .integer(Int64(jobs[.queued] ?? 0)),
            "retry": .integer(Int64(jobs[.retry] ?? 0)),
            "deferred": .integer(Int64(jobs[.deferred] ?? 0)),
            "window": .object([
                "open": .bool(snapshot.isOpen),
                "next_change": time(snapshot.nextChange),
                "hours": .string(lane.settings.timetable.window.hoursDescription),
                "weekends": .bool(lane.settings.timetable.window.includesWeekends),
                "calendar": lane.settings.timetable.calendar.map { .string($0.path) } ?? .null,
            ]),
            "breaker": .object([
                "state": .string(snapshot.breaker),
                "consecutive_faults": .integer(Int64(snapshot.consecutiveFaults)),
                "open_until": time(snapshot.breakerOpenUntil),
            ]),
        ])
    }
}

/// A `POST /lanes` body, checked: the lane, and a rate or a pause to set (at least one).
struct LaneUpdate {
    var lane: Lane
    var rate: Double?
    var paused: Bool?

    init(body: [UInt8]) throws {
        let value: JSONValue
        do {
            value = try PythonJSON.parse(body)
        } catch {
            throw APIError(.unprocessableContent, "the body must be a JSON object: \(error)")
        }
        guard case .object(let members) = value else { throw APIError(.unprocessableContent, "the body must be a JSON object") }
        for member in members where !["lane", "rate", "paused"].contains(member.key) {
            throw APIError(.unprocessableContent, "unknown field '\(member.key.prefix(40))': the fields are lane, rate and paused")
        }
        guard case .string(let name)? = value["lane"], let lane = Lane(rawValue: name) else {
            throw APIError(.unprocessableContent, "lane must be \"primary\" or \"secondary\"")
        }
        self.lane = lane
        switch value["rate"] {
        case nil, .null?: rate = nil
        case .integer(let integer)?: rate = Double(integer)
        case .number(let literal)?: rate = Double(literal)
        default: throw APIError(.unprocessableContent, "rate must be a number")
        }
        if let rate, !RateLimits.allows(rate) {
            throw APIError(.unprocessableContent, "rate must be \(RateLimits.description)")
        }
        switch value["paused"] {
        case nil, .null?: paused = nil
        case .bool(let flag)?: paused = flag
        default: throw APIError(.unprocessableContent, "paused must be true or false")
        }
        guard rate != nil || paused != nil else { throw APIError(.unprocessableContent, "set rate, paused, or both") }
    }
}
