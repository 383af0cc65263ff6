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

    /// Stores one message or an array of them, durably, then answers 202 with each job.
    @Sendable func post(_ request: Request, context: APIContext) async throws -> Response {
        if let contentType = request.headers[.contentType], !RateUpdate.isJSON(contentType: contentType) {
            throw APIError(.unsupportedMediaType, "Content-Type must be application/json (had \(contentType.prefix(100)))")
        }
        let body = try await request.collectBody(upTo: configuration.maxBodySize)
        let messages = try MessageBatch.decode(body, maxBatchSize: configuration.maxBatchSize)
        let enqueued = try await deadline.run { try await store.enqueue(messages, now: Date()) }
        let newCount = enqueued.filter(\.isNew).count
        events.publish(.enqueued(newJobs: newCount))
        context.logger.info("messages enqueued", metadata: ["pixl.messages.count": "\(messages.count)", "pixl.jobs.new": "\(newCount)"])
        let jobs: [JSONValue] = enqueued.map { entry in
            .object([
                "id": .string(entry.job.id.uuidString.lowercased()),
                "state": .string(entry.job.state.rawValue),
                "url": .string("/messages/\(entry.job.id.uuidString.lowercased())"),
            ])
        }
        return JSONAnswer.json(.accepted, JSONValue.object(["jobs": .array(jobs)]).serialized())
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

    /// A page of jobs, newest first, with the URL of the next page.
    @Sendable func list(_ request: Request, context: APIContext) async throws -> Response {
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
        let jobs = try await deadline.run { [state, limit, before] in try await store.jobs(state: state, project: project, limit: limit, before: before) }
        var next: JSONValue = .null
        if jobs.count == limit, let last = jobs.last {
            var items: [String] = []
            if let state { items.append("state=\(state.rawValue)") }
            if let project { items.append("project=\(Self.percentEncode(project))") }
            items.append("limit=\(limit)")
            items.append("before=\(Self.percentEncode(ISO8601UTC.format(last.createdAt)))")
            next = .string("/messages?" + items.joined(separator: "&"))
        }
        let page = JSONValue.object(["jobs": .array(jobs.map(\.json)), "next": next])
        return JSONAnswer.json(.ok, page.serialized())
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
