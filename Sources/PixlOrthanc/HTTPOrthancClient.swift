public import AsyncHTTPClient
public import Foundation
public import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
public import PixlCore

/// ``OrthancClient`` over Orthanc's REST API, with async-http-client.
///
/// Every call has the query timeout of ``Configuration``; a transport failure or HTTP 5xx becomes a
/// transient ``OrthancError``, so the pipeline retries instead of discarding.
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

    /// - Parameter metrics: told the latency of every call and the class of every failure, by route template.
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
            let job: JobBody = try await call(.GET, "/jobs/\(id)", route: "/jobs/{id}")
            return job.job
        } catch let error as OrthancError where error.status == 404 {
            return nil
        }
    }

    public func findStudies(matching query: [String: String]) async throws -> [OrthancStudy] {
        let body = FindBody(Level: "Study", Query: query, Expand: true)
        let studies: [StudyBody] = try await call(.POST, "/tools/find", route: "/tools/find", body: body)
        return studies.map { OrthancStudy(id: $0.ID, studyInstanceUID: $0.MainDicomTags["StudyInstanceUID"] ?? "") }
    }

    public func projectName(ofStudy id: String) async throws -> String? {
        let tags: [String: SharedTag] = try await call(.GET, "/studies/\(id)/shared-tags?short", route: "/studies/{id}/shared-tags")
        guard case .string(let value) = tags[ProjectTag.projectElement] else { return nil }
        return value.trimmingCharacters(in: .whitespaces)
    }

    public func queryStudies(modality: String, query: [String: String]) async throws -> QueryResult {
        let body = QueryBody(Level: "Study", Query: query, Normalize: false)
        let created: CreatedBody = try await call(.POST, "/modalities/\(Self.escape(modality))/query", route: "/modalities/{modality}/query", body: body)
        let indexes: [String] = try await call(.GET, "/queries/\(created.ID)/answers", route: "/queries/{id}/answers")
        var answers: [QueryAnswer] = []
        for index in indexes {
            let content: [String: SharedTag] = try await call(.GET, "/queries/\(created.ID)/answers/\(index)/content?short", route: "/queries/{id}/answers/{n}/content")
            answers.append(
                QueryAnswer(studyInstanceUID: content["0020,000d"]?.text, instanceAvailability: content["0008,0056"]?.text)
            )
        }
        return QueryResult(id: created.ID, answers: answers)
    }

    public func retrieve(queryID: String, targetAET: String) async throws -> String {
        let created: CreatedBody = try await call(.POST, "/queries/\(queryID)/retrieve", route: "/queries/{id}/retrieve", body: RetrieveBody(TargetAet: targetAET, Synchronous: false))
        return created.ID
    }

    public func modifyStudy(id: String, body: ModifyRequest) async throws -> String {
        let created: CreatedBody = try await call(.POST, "/studies/\(id)/modify", route: "/studies/{id}/modify", body: ModifyBody(body))
        return created.ID
    }

    public func deleteStudy(id: String) async throws {
        let _: Ignored = try await call(.DELETE, "/studies/\(id)", route: "/studies/{id}")
    }

    public func store(studyIDs: [String], modality: String) async throws -> String {
        let body = StoreBody(Resources: studyIDs, Synchronous: false)
        let created: CreatedBody = try await call(.POST, "/modalities/\(Self.escape(modality))/store", route: "/modalities/{modality}/store", body: body)
        return created.ID
    }

    // MARK: HTTP

    /// Makes one call and decodes its JSON answer.
    /// - Parameter route: the path with its ids replaced by placeholders, naming the call in metrics.
    private func call<Answer: Decodable>(
        _ method: HTTPMethod,
        _ path: String,
        route: String,
        body: (some Encodable)? = Optional<Ignored>.none
    ) async throws -> Answer {
        let operation = "\(method.rawValue) \(route)"
        do {
            let started = ContinuousClock.now
            let answer: Answer = try await send(method, path, body: body)
            metrics.recordOrthancCall(operation, duration: ContinuousClock.now - started)
            return answer
        } catch let error as OrthancError {
            metrics.recordOrthancError(operation, kind: error.code.description)
            throw error
        }
    }

    private func send<Answer: Decodable>(_ method: HTTPMethod, _ path: String, body: (some Encodable)?) async throws -> Answer {
        let label = "\(method.rawValue) \(path)"
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        if let authorization { request.headers.add(name: "Authorization", value: authorization) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(body)))
        }
        let response: HTTPClientResponse
        let bytes: ByteBuffer
        do {
            response = try await httpClient.execute(request, timeout: .nanoseconds(configuration.requestTimeout.nanoseconds))
            bytes = try await response.body.collect(upTo: 64 * 1024 * 1024)
        } catch {
            throw Self.classify(error, request: label)
        }
        logger.trace("orthanc call", metadata: ["orthanc.request": "\(method.rawValue)", "orthanc.status": "\(response.status.code)"])
        let status = Int(response.status.code)
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

    private static func escape(_ component: String) -> String {
        component.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? component
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
