import HTTPTypes
import Logging
import Hummingbird
import PixlCore

/// One thing the service needs to do its work, checked by `GET /ready`: the database, orthanc-raw, the RabbitMQ intake.
public struct ReadinessProbe: Sendable {
    /// The check's name in `/ready`'s answer (`database`, `orthanc_raw`, `rabbitmq`).
    public var name: String
    /// Returns when the dependency answers; throws when it does not.
    public var check: @Sendable () async throws -> Void

    public init(name: String, check: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.check = check
    }
}

/// `GET /ready` (readiness, for a container's probe): 200 when every probe answers within the deadline, else 503 with
/// `Retry-After`, naming each dependency `ok` or `unavailable`. `/heart-beat` stays the liveness probe (PIXL's).
struct ReadinessController {
    let probes: [ReadinessProbe]
    let deadline: StoreDeadline

    func addRoutes(to routes: Routes<some RouterMethods<APIContext>>) {
        routes.on("/ready", .get, use: ready)
    }

    @Sendable func ready(_ request: Request, context: APIContext) async throws -> Response {
        var members: [JSONValue.Member] = []
        for probe in probes {
            let answered = (try? await deadline.run { try await probe.check() }) != nil
            if !answered { context.logger.warning("not ready", metadata: ["pixl.dependency": "\(probe.name)"]) }
            members.append(.init(key: probe.name, value: .string(answered ? "ok" : "unavailable")))
        }
        let ready = members.allSatisfy { $0.value == .string("ok") }
        var headers = HTTPFields()
        if !ready { headers[.retryAfter] = String(Int(deadline.duration.seconds.rounded(.up))) }
        let body = JSONValue.object(["ready": .bool(ready), "checks": .object(members)])
        return JSONAnswer.json(ready ? .ok : .serviceUnavailable, body.serialized(), headers: headers)
    }
}
