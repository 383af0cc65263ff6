import Hummingbird
import HTTPTypes
import Synchronization

/// The API's routes as registered: what ``PIXLRoutingMiddleware`` consults to answer a request no route
/// serves exactly as PIXL's FastAPI does (307, 404, 405).
final class RouteTable: Sendable {
    private struct Route {
        var segments: [Substring]
        var methods: [HTTPRequest.Method]
    }

    private let routes = Mutex<[Route]>([])

    func add(_ path: String, _ method: HTTPRequest.Method) {
        let segments = Self.segments(path)
        routes.withLock { routes in
            if let index = routes.firstIndex(where: { $0.segments == segments }) {
                routes[index].methods.append(method)
            } else {
                routes.append(Route(segments: segments, methods: [method]))
            }
        }
    }

    /// Every route: its path template (`/messages/{id}`) and methods.
    var all: [(path: String, methods: [HTTPRequest.Method])] {
        routes.withLock { $0.map { (path: $0.segments.joined(separator: "/"), methods: $0.methods) } }
    }

    /// The methods served at `path` (`{name}` in a route matches one non-empty segment), or `nil` for no route.
    func methods(at path: String) -> [HTTPRequest.Method]? {
        let segments = Self.segments(path)
        return routes.withLock { routes in
            routes.first { route in
                route.segments.count == segments.count
                    && zip(route.segments, segments).allSatisfy { template, segment in
                        template == segment || (template.hasPrefix("{") && !segment.isEmpty)
                    }
            }?.methods
        }
    }

    private static func segments(_ path: String) -> [Substring] {
        path.split(separator: "/", omittingEmptySubsequences: false)
    }
}

/// Adds routes to a router (or one of its groups) and to the ``RouteTable`` at once.
struct Routes<Group: RouterMethods> where Group.Context == APIContext {
    let group: Group
    let table: RouteTable

    func on(_ path: String, _ method: HTTPRequest.Method, use handler: @escaping @Sendable (Request, APIContext) async throws -> Response) {
        table.add(path, method)
        group.on(RouterPath(path), method: method, use: handler)
    }
}
