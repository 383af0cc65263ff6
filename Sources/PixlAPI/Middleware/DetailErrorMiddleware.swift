import HTTPTypes
import Logging
import PixlCore
import Hummingbird

/// Turns every error into `{"detail": …}`, as PIXL's FastAPI answers: an ``APIError`` as it says, a store that did not
/// answer in time as 503 with `Retry-After`, a 401 with `WWW-Authenticate: Bearer`, anything else (a store failure, …) into a bare 500 that says nothing that could
/// carry an identifier, logged by type and route.
struct DetailErrorMiddleware: RouterMiddleware {
    typealias Context = APIContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return error.response
        } catch let error as StoreDeadline.Exceeded {
            var headers = HTTPFields()
            headers[.retryAfter] = String(Int(error.duration.seconds.rounded(.up)))
            context.logger.warning("the job store did not answer in time", metadata: ["hb.endpoint": "\(context.endpointPath ?? request.uri.path)"])
            return JSONAnswer.detail(.serviceUnavailable, "The database did not answer within \(error.duration): try again later", headers: headers)
        } catch let error as HTTPError where error.status == .unauthorized {
            var headers = HTTPFields()
            headers[.wwwAuthenticate] = "Bearer"
            return JSONAnswer.detail(.unauthorized, "Not authenticated: send Authorization: Bearer <PIXL_IMAGING_API_TOKEN>", headers: headers)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            context.logger.error(
                "request failed",
                metadata: ["pixl.error": "\(type(of: error))", "hb.endpoint": "\(context.endpointPath ?? request.uri.path)"]
            )
            return JSONAnswer.detail(.internalServerError, "Internal error")
        }
    }
}
