import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import PixlCore
import PixlOrthanc

/// An HTTP server on loopback that answers as the lab's Orthanc 1.10.1 did (the bytes recorded by
/// `scripts/record-orthanc-answers` in `Resources/`, or bytes a test injects), and remembers every
/// request, so that the real ``HTTPOrthancClient`` is tested over HTTP.
struct RecordedOrthanc: Sendable {
    struct Answer: Sendable {
        var status: HTTPResponse.Status
        var body: Data
    }

    /// One request the client made.
    struct Received: Sendable {
        var method: String
        /// Path with its query string, as sent.
        var target: String
        var body: Data
        var authorization: String?

        /// The body as a JSON object.
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
    }

    /// Answers keyed `METHOD /path?query`.
    var answers: [String: Answer] = [:]

    /// The recorded answer `name` (`Resources/name.json`).
    static func recorded(_ name: String) throws -> Data {
        guard let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Resources") else {
            throw RecordedOrthancError("no recorded answer \(name).json")
        }
        return try Data(contentsOf: url)
    }

    /// The `ID` of a recorded creation answer (a query or a job).
    static func recordedID(_ name: String) throws -> String {
        let object = try JSONSerialization.jsonObject(with: recorded(name)) as? [String: Any]
        guard let id = object?["ID"] as? String else { throw RecordedOrthancError("\(name).json has no ID") }
        return id
    }

    mutating func answer(_ method: String, _ target: String, status: HTTPResponse.Status = .ok, recorded name: String) throws {
        answers["\(method) \(target)"] = Answer(status: status, body: try Self.recorded(name))
    }

    mutating func answer(_ method: String, _ target: String, status: HTTPResponse.Status = .ok, body: String) {
        answers["\(method) \(target)"] = Answer(status: status, body: Data(body.utf8))
    }

    /// Runs the server, hands `body` a client pointed at it (basic auth `orthanc`/`orthanc`), and returns
    /// what `body` returned with every request received. An unknown request answers 404, as Orthanc does.
    /// A path the server answers 204 without recording it (see ``serve(requestTimeout:_:)``).
    static let readyPath = "/__recorded-orthanc-ready"

    func serve<Result: Sendable>(
        requestTimeout: Duration = .seconds(5),
        _ body: @escaping @Sendable (HTTPOrthancClient) async throws -> Result
    ) async throws -> (Result, [Received]) {
        let log = RequestLog()
        let answers = self.answers
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            if request.uri.path == Self.readyPath { return Response(status: .noContent) }
            var request = request
            let bytes = try await request.collectBody(upTo: 1 << 20)
            let target = request.uri.path + (request.uri.query.map { "?\($0)" } ?? "")
            await log.append(
                Received(method: request.method.rawValue, target: target, body: Data(bytes.readableBytesView), authorization: request.headers[.authorization])
            )
            guard let answer = answers["\(request.method.rawValue) \(target)"] else { return Response(status: .notFound) }
            return Response(
                status: answer.status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body))
            )
        }
        let app = Application(responder: responder, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        let result = try await app.test(.live) { client in
            guard let port = client.port else { throw RecordedOrthancError("the live test server has no port") }
            // HummingbirdTesting's own client connects as the test starts, without waiting. A body that ends at once
            // (an answer refused before any request) shut the server down while it was still accepting that
            // connection, and NIO traps on that in a debug build ("Deinited NIOAsyncWriter without calling finish()").
            // One request through that client first: the server has accepted it before the body runs.
            _ = try await client.execute(uri: Self.readyPath, method: .get)
            let orthanc = HTTPOrthancClient(
                httpClient: HTTPClient.shared,
                configuration: .init(
                    baseURL: URL(string: "http://127.0.0.1:\(port)")!, username: "orthanc", password: "orthanc", requestTimeout: requestTimeout
                ),
                logger: Logger(label: "recorded-orthanc")
            )
            return try await body(orthanc)
        }
        return (result, await log.requests)
    }
}

private actor RequestLog {
    var requests: [RecordedOrthanc.Received] = []
    func append(_ request: RecordedOrthanc.Received) { requests.append(request) }
}

struct RecordedOrthancError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
