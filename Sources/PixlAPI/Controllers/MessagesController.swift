import Foundation
import HTTPTypes
import Logging
import Hummingbird
import PixlCore

/// `/messages`: messages in (SPEC §4), jobs out (SPEC §5).
struct MessagesController<Store: JobStore> {
    let store: Store
    let events: JobEvents
    let configuration: APIConfiguration
    var deadline: StoreDeadline { StoreDeadline(duration: configuration.storeDeadline) }

    static var defaultPageSize: Int { 100 }
    static var maximumPageSize: Int { 1000 }

    func addRoutes(to routes: Routes<some RouterMethods<APIContext>>) {
        routes.on("/messages", .post, use: post)
        routes.on("/messages", .get, use: list)
        routes.on("/messages/{id}", .get, use: get)
    }

    /// Stores one message or an array of them, durably, then answers 202 with each job. A valid W3C `traceparent`
    /// (and `tracestate`) header is stored with each job of the batch, whose span continues that trace; an invalid one
    /// is ignored.
    @Sendable func post(_ request: Request, context: APIContext) async throws -> Response {
        if let contentType = request.headers[.contentType], !RateUpdate.isJSON(contentType: contentType) {
            throw APIError(.unsupportedMediaType, "Content-Type must be application/json (had \(contentType.prefix(100)))")
        }
        let body = try await request.collectBody(upTo: configuration.maxBodySize)
        var batch = try MessageBatch.decode(body, maxBatchSize: configuration.maxBatchSize)
        if let traceContext = Self.traceContext(of: request) {
            for index in batch.indices { batch[index].traceContext = traceContext }
        }
        let messages = batch
        let enqueued = try await deadline.run { try await store.enqueue(messages, now: Date()) }
        let newCount = enqueued.filter(\.isNew).count
        events.publish(.enqueued(newJobs: newCount))
        context.logger.info("messages enqueued", metadata: ["pixl.messages.count": "\(messages.count)", "pixl.jobs.new": "\(newCount)"])
        return JSONAnswer.json(.accepted, Self.enqueuedJSON(enqueued))
    }

    /// The request's `traceparent` and `tracestate`, when the `traceparent` is valid. Headers sent more than once are
    /// combined into one value: a `traceparent` is then invalid (the W3C Recommendation ignores it), `tracestate`s
    /// make one list (as it joins them).
    static func traceContext(of request: Request) -> TraceContext? {
        TraceContext(traceparent: request.headers[.traceparent], tracestate: request.headers[.tracestate])
    }

    /// `{"jobs": [{"id", "state", "url"}, …]}`, written straight into one string: for 10,000 jobs, no tree of values
    /// beside it. Every value is a lower-case UUID or a state's name, which JSON needs no escape for.
    static func enqueuedJSON(_ enqueued: [EnqueuedJob]) -> String {
        var text = #"{"jobs":["#
        text.reserveCapacity(text.utf8.count + enqueued.count * 112 + 2)
        for (index, entry) in enqueued.enumerated() {
            let id = entry.job.id.uuidString.lowercased()
            if index > 0 { text += "," }
            text += #"{"id":"\#(id)","state":"\#(entry.job.state.rawValue)","url":"/messages/\#(id)"}"#
        }
        return text + "]}"
    }

    @Sendable func get(_ request: Request, context: APIContext) async throws -> Response {
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else {
            throw APIError(.unprocessableContent, "The job id must be a UUID")
        }
        guard let job = try await deadline.run({ try await store.job(id: id) }) else {
            throw APIError(.notFound, "No job \(id.uuidString.lowercased())")
        }
        return JSONAnswer.json(.ok, job.json.serialized())
    }

    /// A keyset page of jobs, newest first, with the URLs of the pages beside it.
    @Sendable func list(_ request: Request, context: APIContext) async throws -> Response {
        let query = request.uri.queryParameters
        func parameter(_ name: String) -> String? { query.get(name).flatMap { $0.isEmpty ? nil : $0 } }
        var filter = JobFilter(project: parameter("project"))
        if let text = parameter("state") {
            guard let state = JobState(rawValue: text) else {
                throw APIError(.unprocessableContent, "state must be one of \(JobState.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            filter.state = state
        }
        for (name, keyPath) in [("since", \JobFilter.createdSince), ("until", \JobFilter.createdUntil)] {
            guard let text = parameter(name) else { continue }
            guard let date = ISO8601UTC.parse(text) else { throw APIError(.unprocessableContent, "\(name) must be an ISO 8601 date-time") }
            filter[keyPath: keyPath] = date
        }
        var limit = Self.defaultPageSize
        if let text = parameter("limit") {
            guard let parsed = Int(text), (1...Self.maximumPageSize).contains(parsed) else {
                throw APIError(.unprocessableContent, "limit must be an integer from 1 to \(Self.maximumPageSize)")
            }
            limit = parsed
        }
        var start = PageStart.newest
        for (name, makeStart) in [("before", PageStart.olderThan), ("after", PageStart.newerThan)] {
            guard let text = parameter(name) else { continue }
            guard start == .newest else { throw APIError(.unprocessableContent, "give before or after, not both") }
            guard let cursor = JobCursor(text) else {
                throw APIError(.unprocessableContent, "\(name) must be a page cursor, as in a page's next or previous link")
            }
            start = makeStart(cursor)
        }
        let page = try await deadline.run { [filter, start, limit] in try await store.jobs(matching: filter, from: start, limit: limit) }
        func link(_ cursor: JobCursor?, _ name: String) -> JSONValue {
            guard let cursor else { return .null }
            var items: [String] = []
            if let state = filter.state { items.append("state=\(state.rawValue)") }
            if let project = filter.project { items.append("project=\(Self.percentEncode(project))") }
            if let since = filter.createdSince { items.append("since=\(Self.percentEncode(ISO8601UTC.format(since)))") }
            if let until = filter.createdUntil { items.append("until=\(Self.percentEncode(ISO8601UTC.format(until)))") }
            items.append("limit=\(limit)")
            items.append("\(name)=\(cursor)")
            return .string("/messages?" + items.joined(separator: "&"))
        }
        let body = JSONValue.object([
            "jobs": .array(page.jobs.map(\.json)),
            "next": link(page.older, "before"),
            "previous": link(page.newer, "after"),
        ])
        return JSONAnswer.json(.ok, body.serialized())
    }

    /// RFC 3986 percent-encoding of everything but unreserved characters, for query values.
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
