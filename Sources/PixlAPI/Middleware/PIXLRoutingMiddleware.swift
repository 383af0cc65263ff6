import HTTPTypes
import Hummingbird

/// Answers requests that no route serves exactly as PIXL's FastAPI (Starlette) does, byte for byte:
/// a path with or without a trailing slash too many → `307` to the other one (`redirect_slashes`); a known
/// path with another method → `405` with `Allow` (no body for `HEAD`); anything else → `404`
/// `{"detail":"Not Found"}`. Added first, it sees every request, routed or not.
struct PIXLRoutingMiddleware: RouterMiddleware {
    typealias Context = APIContext

    let routes: RouteTable
    /// `host:port` for absolute redirects when a request carries no `Host`.
    let defaultAuthority: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        guard let methods = routes.methods(at: path) else {
            if path != "/" {
                let other = path.hasSuffix("/") ? String(path.dropLast()) : path + "/"
                if routes.methods(at: other) != nil { return redirect(request, to: other) }
            }
            return JSONAnswer.detail(.notFound, "Not Found")
        }
        guard methods.contains(request.method) else {
            var headers = HTTPFields()
            headers[.allow] = methods.map(\.rawValue).joined(separator: ", ")
            if request.method == .head {
                headers[.contentType] = "application/json"
                return Response(status: .methodNotAllowed, headers: headers)
            }
            return JSONAnswer.detail(.methodNotAllowed, "Method Not Allowed", headers: headers)
        }
        return try await next(request, context)
    }

    private func redirect(_ request: Request, to path: String) -> Response {
        // A live HTTP/1 server turns `Host` into the authority; an in-process test may send it as a field.
        let authority = HTTPField.Name("Host").flatMap { request.headers[$0] } ?? request.head.authority ?? defaultAuthority
        var location = "http://\(authority)\(path)"
        if let query = request.uri.query, !query.isEmpty { location += "?" + query }
        var headers = HTTPFields()
        headers[.location] = location
        return Response(status: .temporaryRedirect, headers: headers)
    }
}
