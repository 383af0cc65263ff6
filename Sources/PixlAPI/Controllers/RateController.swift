import HTTPTypes
import Logging
import Hummingbird
import PixlCore

/// `/token-bucket-refresh-rate`: PIXL's endpoint for reading and setting how fast messages start (SPEC §5). PIXL's CLI
/// sets one rate: it sets both lanes' (issue 13); a GET answers the primary lane's configured rate.
struct RateController<C: Clock<Duration>> {
    let lanes: Lanes<C>
    let maxBodySize: Int

    func addRoutes(to routes: Routes<some RouterMethods<APIContext>>) {
        routes.on("/token-bucket-refresh-rate", .get, use: get)
        routes.on("/token-bucket-refresh-rate", .post, use: set)
    }

    @Sendable func get(_ request: Request, context: APIContext) async throws -> Response {
        JSONAnswer.json(.ok, RateUpdate.rateBody(lanes.primary.snapshot().configuredRate))
    }

    @Sendable func set(_ request: Request, context: APIContext) async throws -> Response {
        let body = try await request.collectBody(upTo: maxBodySize)
        switch RateUpdate.decide(body: body, contentType: request.headers[.contentType]) {
        case .accept(let rate):
            try await lanes.setRate(rate)
            return JSONAnswer.json(.ok, "\"Successfully updated the refresh rate\"")
        case .reject(let status, let body):
            return JSONAnswer.json(HTTPResponse.Status(code: status), body)
        }
    }
}
