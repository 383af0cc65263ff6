public import AsyncHTTPClient
public import Foundation
public import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
public import PixlCore
import Tracing

/// ``OrthancClient`` over Orthanc's REST API, with async-http-client.
///
/// Every call has the query timeout of ``Configuration``; a transport failure or HTTP 5xx becomes a
/// transient ``OrthancError``, so the pipeline retries instead of discarding. A call made within a trace (a job's
/// span) is a client span of its own, named by its route template (`POST /modalities/{modality}/query`), never by
/// its path, whose ids could lead to a patient.
public struct HTTPOrthancClient: OrthancClient {
    public struct Configuration: Sendable {
        public var baseURL: URL
        public var username: String?
        /// Secret: never logged.
        public var password: String?
        /// The deadline of one REST call (PIXL_QUERY_TIMEOUT).
        public var requestTimeout: Duration

        public init(baseURL: URL, username: String? = nil, password: String? = nil, requestTimeout: Duration = .seconds(10)) {
            self.baseURL = baseURL
            self.username = username
            self.password = password
            self.requestTimeout = requestTimeout
        }

        public init(_ server: PixlConfiguration.OrthancServer, requestTimeout: Duration) {
            self.init(baseURL: server.url, username: server.username, password: server.password, requestTimeout: requestTimeout)
        }
    }

    // MARK: Member variables

    let httpClient: HTTPClient
    let configuration: Configuration
    let logger: Logger
    let metrics: any PipelineMetrics
    private let authorization: String?
    private let base: String

    // MARK: Initialization

    /// - Parameters:
    ///   - httpClient: a client without response decompression (AHC's default `Configuration`).
    ///     `HTTPClient.shared` inflates gzip with a 25× ratio limit, which Orthanc's JSON answers exceed
    ///     (an IMAGE-level answer list of 40 instances, measured): every such answer would then fail.
    ///   - metrics: told the latency of every call and the class of every failure, by route template.
    public init(httpClient: HTTPClient, configuration: Configuration, logger: Logger, metrics: any PipelineMetrics = NoPipelineMetrics()) {
        self.httpClient = httpClient
        self.configuration = configuration
        self.logger = logger
        self.metrics = metrics
        if let username = configuration.username {
            let credentials = Data("\(username):\(configuration.password ?? "")".utf8).base64EncodedString()
            authorization = "Basic \(credentials)"
        } else {
            authorization = nil
        }
        var base = configuration.baseURL.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        self.base = base
    }

    // MARK: OrthancClient

    public func jobs() async throws -> [OrthancJob] {
        let jobs: [JobBody] = try await call(.GET, "/jobs?expand", route: "/jobs")
        return jobs.map(\.job)
    }

    public func job(id: String) async throws -> OrthancJob? {
        do {
            let job: JobBody = try await call(.GET, "/jobs/\(Self.escape(id))", route: "/jobs/{id}", job: .id(id))
            return job.job
        } catch let error as OrthancError where error.status == 404 {
            return nil
        }
    }

    public func findStudies(matching query: [String: String]) async throws -> [OrthancStudy] {
        let body = FindBody(Level: "Study", Query: query, Expand: true)
        let studies: [StudyBody] = try await call(.POST, "/tools/find", route: "/tools/find", body: body)
        return try studies.map { study in
            OrthancStudy(
                id: try Self.checkedID(study.ID, request: "POST /tools/find"),
                studyInstanceUID: study.MainDicomTags["StudyInstanceUID"]?.text(upTo: Self.maximumValueLength) ?? "",
                patientID: study.PatientMainDicomTags?["PatientID"]?.text(upTo: Self.maximumValueLength),
                accessionNumber: study.MainDicomTags["AccessionNumber"]?.text(upTo: Self.maximumValueLength)
            )
        }
    }

    public func projectName(ofStudy id: String) async throws -> String? {
        try await projectName(of: "studies", id: id)
    }

    public func projectName(ofSeries id: String) async throws -> String? {
        try await projectName(of: "series", id: id)
    }

    private func projectName(of resources: String, id: String) async throws -> String? {
        let tags: [String: SharedTag] = try await call(.GET, "/\(resources)/\(Self.escape(id))/shared-tags?short", route: "/\(resources)/{id}/shared-tags")
        guard case .string(let value) = tags[ProjectTag.projectElement] else { return nil }
        return value.trimmingCharacters(in: .whitespaces)
    }

    public func query(_ level: QueryLevel, modality: String, keys: [String: String]) async throws -> QueryResult {
        let body = QueryBody(Level: level.rawValue, Query: keys, Normalize: false)
        let path = "/modalities/\(Self.escape(modality))/query"
        let created: CreatedBody = try await call(.POST, path, route: "/modalities/{modality}/query", body: body)
        let id = try Self.checkedID(created.ID, request: "POST \(path)")
        let contents: [[String: SharedTag]] = try await call(.GET, "/queries/\(id)/answers?expand&short", route: "/queries/{id}/answers")
        guard contents.count <= Self.maximumAnswers else {
            throw OrthancError(code: .badResponse, request: "GET /queries/\(id)/answers", detail: "more than \(Self.maximumAnswers) answers")
        }
        return QueryResult(id: id, level: level, answers: contents.enumerated().map { Self.answer($1, index: $0) })
    }

    public func retrieve(queryID: String, targetAET: String) async throws -> String {
        let body = RetrieveBody(TargetAet: targetAET, Synchronous: false)
        let path = "/queries/\(Self.escape(queryID))/retrieve"
        let created: CreatedBody = try await call(.POST, path, route: "/queries/{id}/retrieve", body: body, job: .created)
        return try Self.checkedID(created.ID, request: "POST \(path)")
    }

    public func retrieve(queryID: String, answer index: Int, targetAET: String) async throws -> String {
        let body = RetrieveBody(TargetAet: targetAET, Synchronous: false)
        let path = "/queries/\(Self.escape(queryID))/answers/\(index)/retrieve"
        let created: CreatedBody = try await call(.POST, path, route: "/queries/{id}/answers/{n}/retrieve", body: body, job: .created)
        return try Self.checkedID(created.ID, request: "POST \(path)")
    }

    public func localSeries(ofStudy id: String) async throws -> [LocalSeries] {
        let path = "/studies/\(Self.escape(id))/series?expand"
        let series: [SeriesBody] = try await call(.GET, path, route: "/studies/{id}/series")
        return try series.map { body in
            guard let uid = body.MainDicomTags["SeriesInstanceUID"]?.text(upTo: Self.maximumValueLength), body.Instances.count <= Self.maximumAnswers
            else { throw OrthancError(code: .badResponse, request: "GET \(path)", detail: "a series without SeriesInstanceUID or with too many instances") }
            return LocalSeries(id: try Self.checkedID(body.ID, request: "GET \(path)"), seriesInstanceUID: uid, instanceCount: body.Instances.count)
        }
    }

    public func localInstanceUIDs(ofSeries id: String) async throws -> [String] {
        let path = "/series/\(Self.escape(id))/instances"
        let instances: [InstanceBody] = try await call(.GET, path, route: "/series/{id}/instances")
        guard instances.count <= Self.maximumAnswers else {
            throw OrthancError(code: .badResponse, request: "GET \(path)", detail: "more than \(Self.maximumAnswers) instances")
        }
        return try instances.map { body in
            guard let uid = body.MainDicomTags["SOPInstanceUID"]?.text(upTo: Self.maximumValueLength) else {
                throw OrthancError(code: .badResponse, request: "GET \(path)", detail: "an instance without SOPInstanceUID")
            }
            return uid
        }
    }

    public func modifyStudy(id: String, body: ModifyRequest) async throws -> String {
        try await modify("studies", id: id, body: body)
    }

    public func modifySeries(id: String, body: ModifyRequest) async throws -> String {
        try await modify("series", id: id, body: body)
    }

    private func modify(_ resources: String, id: String, body: ModifyRequest) async throws -> String {
        let path = "/\(resources)/\(Self.escape(id))/modify"
        let created: CreatedBody = try await call(.POST, path, route: "/\(resources)/{id}/modify", body: ModifyBody(body), job: .created)
        return try Self.checkedID(created.ID, request: "POST \(path)")
    }

    public func deleteStudy(id: String) async throws {
        let _: Ignored = try await call(.DELETE, "/studies/\(Self.escape(id))", route: "/studies/{id}")
    }

    public func store(studyIDs: [String], modality: String) async throws -> String {
        let body = StoreBody(Resources: studyIDs, Synchronous: false)
        let path = "/modalities/\(Self.escape(modality))/store"
        let created: CreatedBody = try await call(.POST, path, route: "/modalities/{modality}/store", body: body, job: .created)
        return try Self.checkedID(created.ID, request: "POST \(path)")
    }

    // MARK: HTTP

    /// The Orthanc job a call concerns, for its span's `pixl.orthanc.job`.
    private enum JobReference {
        case none
        /// The job the path names.
        case id(String)
        /// The job the call creates, whose id is the answer's.
        case created
    }

    /// Makes one call and decodes its JSON answer; within a trace, in a client span of its own.
    ///
    /// Outside a trace (back-pressure's look at the jobs before a claim, readiness probes) no span is made: each would
    /// be the root of a trace of its own.
    /// - Parameter route: the path with its ids replaced by placeholders, naming the call in metrics and its span.
    private func call<Answer: Decodable>(
        _ method: HTTPMethod,
        _ path: String,
        route: String,
        body: (some Encodable)? = Optional<Ignored>.none,
        job: JobReference = .none
    ) async throws -> Answer {
        let operation = "\(method.rawValue) \(route)"
        guard InstrumentationContext.current != nil else { return try await measured(operation, method, path, body: body, span: nil) }
        return try await withSpan(operation, ofKind: .client) { span in
            span.attributes["http.request.method"] = method.rawValue
            span.attributes["url.template"] = route
            if case .id(let id) = job { span.attributes[LogKey.orthancJob] = id }
            let answer: Answer = try await measured(operation, method, path, body: body, span: span)
            if case .created = job, let created = answer as? CreatedBody { span.attributes[LogKey.orthancJob] = created.ID }
            return answer
        }
    }

    /// Makes one call and records its latency, or the class of its failure, under `operation`.
    private func measured<Answer: Decodable>(
        _ operation: String,
        _ method: HTTPMethod,
        _ path: String,
        body: (some Encodable)?,
        span: (any Span)?
    ) async throws -> Answer {
        do {
            let started = ContinuousClock.now
            let answer: Answer = try await send(method, path, body: body, span: span)
            metrics.recordOrthancCall(operation, duration: ContinuousClock.now - started)
            return answer
        } catch let error as OrthancError {
            metrics.recordOrthancError(operation, kind: error.code.description)
            throw error
        }
    }

    private func send<Answer: Decodable>(_ method: HTTPMethod, _ path: String, body: (some Encodable)?, span: (any Span)?) async throws -> Answer {
        let label = "\(method.rawValue) \(path)"
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        if let authorization { request.headers.add(name: "Authorization", value: authorization) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(body)))
        }
        let (response, bytes) = try await exchange(request, label: label, retryingStaleConnection: method == .GET)
        logger.trace("orthanc call", metadata: ["orthanc.request": "\(method.rawValue)", "orthanc.status": "\(response.status.code)"])
        let status = Int(response.status.code)
        span?.attributes["http.response.status_code"] = status
        guard (200..<300).contains(status) else {
            let detail = String(buffer: bytes)
            throw OrthancError(code: status >= 500 ? .serverError : .clientError, status: status, request: label, detail: detail)
        }
        if Answer.self == Ignored.self { return Ignored() as! Answer }
        do {
            return try JSONDecoder().decode(Answer.self, from: Data(buffer: bytes))
        } catch {
            throw OrthancError(code: .badResponse, status: status, request: label, detail: "\(error)")
        }
    }

    /// One request and its whole body. A GET that meets a pooled connection Orthanc has just closed is
    /// sent once more on a fresh one: Orthanc 1.10.1 closes idle connections after 1 s (`Keep-Alive:
    /// timeout=1`, measured), so a job followed at one poll a second often finds its connection gone.
    private func exchange(_ request: HTTPClientRequest, label: String, retryingStaleConnection: Bool) async throws -> (HTTPClientResponse, ByteBuffer) {
        do {
            let response = try await httpClient.execute(request, timeout: .nanoseconds(configuration.requestTimeout.nanoseconds))
            return (response, try await response.body.collect(upTo: 64 * 1024 * 1024))
        } catch where retryingStaleConnection && Self.isStaleConnection(error) {
            logger.debug("orthanc-raw closed a pooled connection: sending again", metadata: ["orthanc.request": "\(label)"])
            return try await exchange(request, label: label, retryingStaleConnection: false)
        } catch {
            throw Self.classify(error, request: label)
        }
    }

    /// A connection closed under us before any answer: the request never reached Orthanc's handler.
    static func isStaleConnection(_ error: any Error) -> Bool {
        if let error = error as? ChannelError { return error == .ioOnClosedChannel || error == .alreadyClosed || error == .eof }
        if let error = error as? HTTPClientError { return error == .remoteConnectionClosed }
        return false
    }

    /// Timeouts and transport failures are transient; they never discard a message.
    static func classify(_ error: any Error, request: String) -> OrthancError {
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .connectTimeout, .readTimeout, .writeTimeout, .getConnectionFromPoolTimeout:
                return OrthancError(code: .timeout, request: request, detail: "\(error)")
            default:
                return OrthancError(code: .connection, request: request, detail: "\(error)")
            }
        }
        if error is CancellationError { return OrthancError(code: .timeout, request: request, detail: "cancelled") }
        return OrthancError(code: .connection, request: request, detail: "\(error)")
    }

    static func escape(_ component: String) -> String {
        component.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? component
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
