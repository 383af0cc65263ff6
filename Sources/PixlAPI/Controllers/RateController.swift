import HTTPTypes
import Logging
import Hummingbird
import PixlCore

/// `/token-bucket-refresh-rate`: PIXL's endpoint for reading and setting how fast messages start (SPEC §5).
struct RateController<C: Clock<Duration>> {
    let rateGate: TokenBucket<C>
    let events: JobEvents
    let maxBodySize: Int

    func addRoutes(to routes: Routes<some RouterMethods<APIContext>>) {
        routes.on("/token-bucket-refresh-rate", .get, use: get)
        routes.on("/token-bucket-refresh-rate", .post, use: set)
    }

    @Sendable func get(_ request: Request, context: APIContext) async throws -> Response {
        JSONAnswer.json(.ok, RateUpdate.rateBody(await rateGate.rate))
    }

    @Sendable func set(_ request: Request, context: APIContext) async throws -> Response {
        let body = try await request.collectBody(upTo: maxBodySize)
        switch RateUpdate.decide(body: body, contentType: request.headers[.contentType]) {
        case .accept(let rate):
            try await rateGate.setRate(rate)
            events.publish(.rateChanged(rate))
            context.logger.info("token bucket rate set", metadata: ["pixl.rate": "\(rate)"])
            return JSONAnswer.json(.ok, "\"Successfully updated the refresh rate\"")
        case .reject(let status, let body):
            return JSONAnswer.json(HTTPResponse.Status(code: status), body)
        }
    }
}
