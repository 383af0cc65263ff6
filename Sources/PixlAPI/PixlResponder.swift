import Foundation
public import Hummingbird
public import Logging
import HTTPTypes
import NIOCore
public import PixlCore

/// Builds the API of SPEC §5.
///
/// ```swift
/// let router = buildRouter(store: store, bucket: bucket, status: StatusProvider { await pool.status },
///                          metrics: metrics, configuration: .init(apiToken: env["PIXL_IMAGING_API_TOKEN"]))
/// let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 8000)))
/// ```
/// - Parameters:
///   - store: where messages are enqueued and jobs read.
///   - bucket: the token bucket the workers take from; `/token-bucket-refresh-rate` reads and sets its rate.
///   - status: the worker pool's in-flight count, for `/status` and `/metrics`.
///   - metrics: the registry `/metrics` exposes; the workers record into the same instance.
///   - configuration: the bearer token and size limits.
public func buildRouter<Store: JobStore, C: Clock>(
    store: Store,
    bucket: TokenBucket<C>,
    status: StatusProvider = .idle(),
    metrics: PixlMetrics = PixlMetrics(),
    configuration: APIConfiguration = APIConfiguration()
) -> PixlRouter<Store, C> {
    PixlRouter(
        responder: PixlResponder(
            store: store,
            bucket: bucket,
            status: status,
            metrics: metrics,
            configuration: configuration
        )
    )
}

/// Builds the Hummingbird application serving ``buildRouter(store:bucket:status:metrics:configuration:)``.
///
/// Add the worker pool and other services with `app.addServices(_:)`, then `try await app.runService()`.
public func buildApplication<Store: JobStore, C: Clock>(
    store: Store,
    bucket: TokenBucket<C>,
    status: StatusProvider = .idle(),
    metrics: PixlMetrics = PixlMetrics(),
    configuration: APIConfiguration = APIConfiguration(),
    server: ApplicationConfiguration = ApplicationConfiguration(),
    logger: Logger? = nil
) -> Application<PixlResponder<Store, C>> {
    Application(
        router: buildRouter(
            store: store,
            bucket: bucket,
            status: status,
            metrics: metrics,
            configuration: configuration
        ),
        configuration: server,
        logger: logger
    )
}

/// The API's responder, wrapped so that `Application(router:)` accepts it.
public struct PixlRouter<Store: JobStore, C: Clock>: HTTPResponderBuilder where C.Duration == Duration {
    public let responder: PixlResponder<Store, C>

    public func buildResponder() -> PixlResponder<Store, C> { responder }
}

/// Answers every request: routing, PIXL-compatible 404/405/307, authentication, and errors as `{"detail": …}`.
public struct PixlResponder<Store: JobStore, C: Clock>: HTTPResponder where C.Duration == Duration {
    public typealias Context = BasicRequestContext

    let store: Store
    let bucket: TokenBucket<C>
    let status: StatusProvider
    let metrics: PixlMetrics
    let configuration: APIConfiguration

    /// Routes and the methods each serves. `{id}` matches one path segment.
    static var routes: [(path: String, methods: [HTTPRequest.Method], requiresToken: Bool)] {
        [
            ("/heart-beat", [.get], false),
            ("/token-bucket-refresh-rate", [.get, .post], true),
            ("/messages", [.get, .post], true),
            ("/messages/{id}", [.get], true),
            ("/status", [.get], true),
            ("/metrics", [.get], false),
            ("/openapi.json", [.get], true),
            ("/docs", [.get], true),
        ]
    }

    /// The route template matching `path`, if any.
    static func route(for path: String) -> (path: String, methods: [HTTPRequest.Method], requiresToken: Bool)? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        return routes.first { route in
            let template = route.path.split(separator: "/", omittingEmptySubsequences: false)
            guard template.count == segments.count else { return false }
            return zip(template, segments).allSatisfy { t, s in
                t == s || (t.hasPrefix("{") && !s.isEmpty)
            }
        }
    }

    public func respond(to request: Request, context: Context) async throws -> Response {
        let path = request.uri.path
        guard let route = Self.route(for: path) else {
            // Starlette's redirect_slashes: try the path without (or with) its trailing slash.
            if path != "/" {
                let other = path.hasSuffix("/") ? String(path.dropLast()) : path + "/"
                if Self.route(for: other) != nil {
                    return redirect(request, to: other)
                }
            }
            return JSONAnswer.detail(.notFound, "Not Found")
        }
        guard route.methods.contains(request.method) else {
            var headers = HTTPFields()
            headers[.allow] = route.methods.map(\.rawValue).joined(separator: ", ")
            if request.method == .head {
                headers[.contentType] = "application/json"
                return Response(status: .methodNotAllowed, headers: headers)
            }
            return JSONAnswer.detail(.methodNotAllowed, "Method Not Allowed", headers: headers)
        }
        if route.requiresToken, let token = configuration.apiToken, !Self.isAuthorized(request, token: token) {
            var headers = HTTPFields()
            headers[.wwwAuthenticate] = "Bearer"
            return JSONAnswer.detail(.unauthorized, "Not authenticated: send Authorization: Bearer <PIXL_IMAGING_API_TOKEN>", headers: headers)
        }
        do {
            return try await dispatch(route: route.path, request: request, context: context)
        } catch let error as APIError {
            return error.response
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            // Store failures and the like: no detail that could carry identifiers.
            context.logger.error("request failed", metadata: ["pixl.error": "\(type(of: error))", "hb.request.path": "\(route.path)"])
            return JSONAnswer.detail(.internalServerError, "Internal error")
        }
    }

    private func dispatch(route: String, request: Request, context: Context) async throws -> Response {
        switch (route, request.method) {
        case ("/heart-beat", .get): return JSONAnswer.json(.ok, "\"OK\"")
        case ("/token-bucket-refresh-rate", .get): return JSONAnswer.json(.ok, RateUpdate.rateBody(await bucket.rate))
        case ("/token-bucket-refresh-rate", .post): return try await updateRate(request: request, context: context)
        case ("/messages", .post): return try await postMessages(request: request, context: context)
        case ("/messages", .get): return try await listJobs(request: request)
        case ("/messages/{id}", .get): return try await getJob(request: request)
        case ("/status", .get): return try await statusResponse()
        case ("/metrics", .get): return try await metricsResponse()
        case ("/openapi.json", .get): return JSONAnswer.json(.ok, OpenAPIDocument.json)
        case ("/docs", .get):
            var headers = HTTPFields()
            headers[.contentType] = "text/html; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: DocsPage.html)))
        default: return JSONAnswer.detail(.notFound, "Not Found")
        }
    }

    // MARK: PIXL's endpoints

    private func updateRate(request: Request, context: Context) async throws -> Response {
        let body = try await collectBody(request)
        switch RateUpdate.decide(body: body, contentType: request.headers[.contentType]) {
        case .accept(let rate):
            try await bucket.setRate(rate)
            metrics.setRate(rate)
            context.logger.info("token bucket rate set", metadata: ["pixl.rate": "\(rate)"])
            return JSONAnswer.json(.ok, "\"Successfully updated the refresh rate\"")
        case .reject(let status, let body):
            return JSONAnswer.json(HTTPResponse.Status(code: status), body)
        }
    }

    // MARK: Messages

    private func postMessages(request: Request, context: Context) async throws -> Response {
        if let contentType = request.headers[.contentType], !RateUpdate.isJSON(contentType: contentType) {
            throw APIError(.unsupportedMediaType, "Content-Type must be application/json (had \(contentType.prefix(100)))")
        }
        let messages = try MessageBatch.decode(try await collectBody(request), maxBatchSize: configuration.maxBatchSize)
        let enqueued = try await store.enqueue(messages, now: Date())
        let newCount = enqueued.filter(\.isNew).count
        if newCount > 0 { status.wakeWorkers() }
        context.logger.info(
            "messages enqueued",
            metadata: ["pixl.messages.count": "\(messages.count)", "pixl.jobs.new": "\(newCount)"]
        )
        let jobs: [JSONValue] = enqueued.map { entry in
            .object([
                "id": .string(entry.job.id.uuidString.lowercased()),
                "state": .string(entry.job.state.rawValue),
                "url": .string("/messages/\(entry.job.id.uuidString.lowercased())"),
            ])
        }
        return JSONAnswer.json(.accepted, JSONValue.object(["jobs": .array(jobs)]).serialized())
    }

    private func getJob(request: Request) async throws -> Response {
        let segment = request.uri.path.split(separator: "/").last.map(String.init) ?? ""
        guard let id = UUID(uuidString: segment) else {
            throw APIError(.unprocessableContent, "The job id must be a UUID")
        }
        guard let job = try await store.job(id: id) else {
            throw APIError(.notFound, "No job \(id.uuidString.lowercased())")
        }
        return JSONAnswer.json(.ok, job.json.serialized())
    }

    static var defaultPageSize: Int { 100 }
    static var maximumPageSize: Int { 1000 }

    private func listJobs(request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        var state: JobState?
        if let text = query.get("state"), !text.isEmpty {
            guard let parsed = JobState(rawValue: text) else {
                throw APIError(.unprocessableContent, "state must be one of \(JobState.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            state = parsed
        }
        let project = query.get("project").flatMap { $0.isEmpty ? nil : $0 }
        var limit = Self.defaultPageSize
        if let text = query.get("limit"), !text.isEmpty {
            guard let parsed = Int(text), (1...Self.maximumPageSize).contains(parsed) else {
                throw APIError(.unprocessableContent, "limit must be an integer from 1 to \(Self.maximumPageSize)")
            }
            limit = parsed
        }
        var before: Date?
        if let text = query.get("before"), !text.isEmpty {
            guard let parsed = ISO8601UTC.parse(text) else {
                throw APIError(.unprocessableContent, "before must be an ISO 8601 date-time")
            }
            before = parsed
        }
        let jobs = try await store.jobs(state: state, project: project, limit: limit, before: before)
        var next: JSONValue = .null
        if jobs.count == limit, let last = jobs.last {
            var items: [String] = []
            if let state { items.append("state=\(state.rawValue)") }
            if let project { items.append("project=\(Self.percentEncode(project))") }
            items.append("limit=\(limit)")
            items.append("before=\(Self.percentEncode(ISO8601UTC.format(last.createdAt)))")
            next = .string("/messages?" + items.joined(separator: "&"))
        }
        return JSONAnswer.json(.ok, JSONValue.object(["jobs": .array(jobs.map(\.json)), "next": next]).serialized())
    }

    // MARK: Status and metrics

    private func statusResponse() async throws -> Response {
        let counts = try await store.countsByState()
        let nextDue = try await store.nextDueDate()
        let worker = await status.workerStatus()
        let rate = await bucket.rate
        let now = Date()
        let countMembers = JobState.allCases.map { JSONValue.Member(key: $0.rawValue, value: .integer(Int64(counts[$0] ?? 0))) }
        var oldest: JSONValue = .null
        if let nextDue, nextDue <= now {
            oldest = .object([
                "due_since": .string(ISO8601UTC.format(nextDue)),
                "age_seconds": .float((now.timeIntervalSince(nextDue) * 1000).rounded() / 1000),
            ])
        }
        let waiting = (counts[.queued] ?? 0) + (counts[.retry] ?? 0) + (counts[.deferred] ?? 0)
        let body = JSONValue.object([
            "counts": .object(countMembers),
            "waiting": .integer(Int64(waiting)),
            "rate": .float(rate),
            "paused": .bool(rate == 0),
            "in_flight": .integer(Int64(worker.inFlight)),
            "max_in_flight": .integer(Int64(worker.maxInFlight)),
            "accepting": .bool(worker.isAccepting),
            "oldest_waiting": oldest,
            "next_due_at": nextDue.map { .string(ISO8601UTC.format($0)) } ?? .null,
        ])
        return JSONAnswer.json(.ok, body.serialized())
    }

    private func metricsResponse() async throws -> Response {
        // Gauges read from the store and the pool at scrape time.
        if let counts = try? await store.countsByState() {
            metrics.setJobCounts(counts)
        }
        metrics.setRate(await bucket.rate)
        metrics.setInFlight(await status.workerStatus().inFlight)
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
    }

    // MARK: Helpers

    private func collectBody(_ request: Request) async throws -> [UInt8] {
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > configuration.maxBodySize {
            throw APIError(.contentTooLarge, "The body is larger than \(configuration.maxBodySize) bytes")
        }
        do {
            let buffer = try await request.body.collect(upTo: configuration.maxBodySize)
            return Array(buffer.readableBytesView)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw APIError(.contentTooLarge, "The body is larger than \(configuration.maxBodySize) bytes")
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, "The body is larger than \(configuration.maxBodySize) bytes")
        }
    }

    private func redirect(_ request: Request, to path: String) -> Response {
        // A live HTTP/1 server turns `Host` into the authority; an in-process test may send it as a field.
        let authority = HTTPField.Name("Host").flatMap { request.headers[$0] } ?? request.head.authority ?? configuration.defaultAuthority
        var location = "http://\(authority)\(path)"
        if let query = request.uri.query, !query.isEmpty { location += "?" + query }
        var headers = HTTPFields()
        headers[.location] = location
        return Response(status: .temporaryRedirect, headers: headers)
    }

    static func isAuthorized(_ request: Request, token: String) -> Bool {
        guard let header = request.headers[.authorization] else { return false }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return false }
        // Constant-time comparison.
        let given = Array(parts[1].utf8)
        let expected = Array(token.utf8)
        var difference = given.count == expected.count ? 0 : 1
        for index in 0..<given.count {
            difference |= Int(given[index] ^ expected[index % max(expected.count, 1)])
        }
        return difference == 0 && !expected.isEmpty
    }

    static func percentEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" : "") + hex
            }
        }
        return out
    }
}
