import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
@testable import PixlAPI
import PixlCore
import PixlTesting
import Testing

struct AuthenticationTests {
    private static let token = "s3cret-token"

    @Test(arguments: [
        ("/heart-beat", HTTPRequest.Method.get, nil as String?, 200),
        ("/metrics", .get, nil, 200),
        ("/ready", .get, nil, 200),
        ("/token-bucket-refresh-rate", .get, nil, 401),
        ("/token-bucket-refresh-rate", .post, nil, 401),
        ("/messages", .get, nil, 401),
        ("/messages", .post, nil, 401),
        ("/messages/7d0f5a8e-0000-4000-8000-000000000000", .get, nil, 401),
        ("/status", .get, nil, 401),
        ("/lanes", .get, nil, 401),
        ("/lanes", .post, nil, 401),
        ("/projects/audit/report", .get, nil, 401),
        ("/projects/audit/retry-failed", .post, nil, 401),
        ("/projects/audit/cancel-waiting", .post, nil, 401),
        ("/openapi.json", .get, nil, 401),
        ("/status", .get, "Bearer wrong", 401),
        ("/status", .get, "Bearer s3cret-toke", 401),
        ("/status", .get, "Basic czNjcmV0LXRva2Vu", 401),
        ("/status", .get, "Bearer s3cret-token", 200),
        ("/status", .get, "bearer s3cret-token", 200),
        ("/token-bucket-refresh-rate", .get, "Bearer s3cret-token", 200),
        ("/lanes", .get, "Bearer s3cret-token", 200),
        ("/openapi.json", .get, "Bearer s3cret-token", 200),
    ])
    func bearerTokenIsRequiredWhenConfigured(path: String, method: HTTPRequest.Method, authorization: String?, status: Int) async throws {
        let app = try APITestSupport.makeApplication(configuration: APIConfiguration(apiToken: Self.token))
        try await app.test(.router) { client in
            var headers: HTTPFields = [.contentType: "application/json"]
            if let authorization { headers[.authorization] = authorization }
            let response = try await client.execute(uri: path, method: method, headers: headers, body: method == .post ? ByteBuffer(string: "{}") : nil)
            #expect(response.status.code == status, "\(method) \(path)")
            if status == 401 {
                #expect(response.headers[.contentType] == "application/json")
                #expect(response.headers[.wwwAuthenticate] == "Bearer")
                #expect(try APITestSupport.object(String(buffer: response.body))["detail"] is String)
            }
        }
    }

    @Test func noTokenConfiguredMeansOpen() async throws {
        let app = try APITestSupport.makeApplication(configuration: APIConfiguration(apiToken: ""))
        try await app.test(.router) { client in
            let response = try await client.execute(uri: "/status", method: .get)
            #expect(response.status == .ok)
        }
    }
}

struct OpenAPIDocumentTests {
    private func document() async throws -> (text: String, object: [String: Any]) {
        let app = try APITestSupport.makeApplication()
        let text = try await app.test(.router) { client in
            let response = try await client.execute(uri: "/openapi.json", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json")
            return String(buffer: response.body)
        }
        return (text, try APITestSupport.object(text))
    }

    @Test func describesEveryRouteAndMethod() async throws {
        let (_, object) = try await document()
        #expect((object["openapi"] as? String)?.hasPrefix("3.") == true)
        let paths = try #require(object["paths"] as? [String: [String: Any]])
        let events = JobEvents()
        let routes = makeRouter(
            store: InMemoryJobStore(), lanes: try .testing(rate: 0, clock: MockClock()), events: events,
            activity: WorkerActivity(maxInFlight: 1, events: events), metrics: PixlMetrics(), configuration: APIConfiguration()
        ).routes.all.filter { !$0.path.hasPrefix("/ui") }  // the console's HTML pages and forms are not the JSON API
        for route in routes {
            let operations = try #require(paths[route.path], "\(route.path) is not documented")
            for method in route.methods {
                #expect(operations[method.rawValue.lowercased()] != nil, "\(method) \(route.path) is not documented")
            }
        }
        #expect(Set(paths.keys) == Set(routes.map(\.path)))
    }

    @Test func keepsPIXLsSchemas() async throws {
        let (_, object) = try await document()
        let pixlData = try Data(contentsOf: RecordedExchange.fixturesDirectory.appendingPathComponent("pixl-imaging-openapi.json"))
        let pixl = try #require(try JSONSerialization.jsonObject(with: pixlData) as? [String: Any])
        let ours = try #require(object["components"] as? [String: Any])["schemas"] as? [String: Any]
        let theirs = try #require(pixl["components"] as? [String: Any])["schemas"] as? [String: Any]
        for (name, schema) in theirs ?? [:] {
            #expect(same(ours?[name], schema), "\(name)")
        }
        let ourPaths = object["paths"] as? [String: Any]
        let theirPaths = pixl["paths"] as? [String: Any]
        #expect(same(ourPaths?["/heart-beat"], theirPaths?["/heart-beat"]))
        // PIXL's operations keep their ids, summaries, request body and 200/422 responses.
        let ourRate = ourPaths?["/token-bucket-refresh-rate"] as? [String: [String: Any]]
        let theirRate = theirPaths?["/token-bucket-refresh-rate"] as? [String: [String: Any]]
        for method in ["get", "post"] {
            for key in ["summary", "operationId", "requestBody"] {
                #expect(same(ourRate?[method]?[key], theirRate?[method]?[key]), "\(method) \(key)")
            }
            let ourResponses = ourRate?[method]?["responses"] as? [String: Any]
            for (status, response) in theirRate?[method]?["responses"] as? [String: Any] ?? [:] {
                #expect(same(ourResponses?[status], response), "\(method) \(status)")
            }
        }
    }

    /// Compares two JSON values (canonical serialisation with sorted keys).
    private func same(_ lhs: Any?, _ rhs: Any?) -> Bool {
        func canonical(_ value: Any?) -> Data? {
            guard let value else { return nil }
            return try? JSONSerialization.data(withJSONObject: [value], options: [.sortedKeys, .fragmentsAllowed])
        }
        return canonical(lhs) == canonical(rhs)
    }

    /// Validates the document with `openapi-spec-validator` when Python has it (it does on the project's machines).
    @Test(.timeLimit(.minutes(1)))
    func passesOpenAPISpecValidator() async throws {
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", "import openapi_spec_validator"]
        probe.standardOutput = FileHandle.nullDevice
        probe.standardError = FileHandle.nullDevice
        do {
            try probe.run()
            probe.waitUntilExit()
        } catch {
            return
        }
        guard probe.terminationStatus == 0 else { return }  // not installed: nothing to check with
        let (text, _) = try await document()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("pixl-openapi-\(UUID().uuidString).json")
        try Data(text.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let validator = Process()
        validator.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        validator.arguments = ["python3", "-m", "openapi_spec_validator", file.path]
        let output = Pipe()
        validator.standardOutput = output
        validator.standardError = output
        try validator.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        validator.waitUntilExit()
        #expect(validator.terminationStatus == 0, "\(String(decoding: data, as: UTF8.self))")
    }
}

struct MetricsEndpointTests {
    @Test func exposesPrometheusTextThatParses() async throws {
        let events = JobEvents()
        let metrics = PixlMetrics()
        metrics.recordStep("retrieve", duration: .milliseconds(1200))
        metrics.recordOrthancCall("POST /tools/find", duration: .milliseconds(12))
        metrics.recordOrthancError("GET /jobs/{id}", kind: "unavailable")
        let store = InMemoryJobStore()
        let app = try APITestSupport.makeApplication(store: store, events: events, metrics: metrics)
        // Workers of this process: two jobs recorded (succeeded, discarded), two still running.
        for (index, state) in [JobState.succeeded, .discarded, .inProgress, .inProgress].enumerated() {
            let job = Job(id: UUID(), message: .synthetic(index), state: state, createdAt: Date(), updatedAt: Date())
            events.publish(.started(job))
            if state.isFinal { events.publish(.recorded(job)) }
        }
        let text = try await app.test(.router) { client in
            _ = try await client.execute(
                uri: "/messages", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: APITestSupport.message())
            )
            let response = try await client.execute(uri: "/metrics", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
            return String(buffer: response.body)
        }
        var samples: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.isEmpty {
            if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") { continue }
            #expect(!line.hasPrefix("#"), "unexpected comment \(line)")
            // name{labels} value (label values may hold spaces)
            let parts = line.split(separator: " ")
            let name = parts.dropLast().joined(separator: " ")
            #expect(name.range(of: #"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="[^"]*",?)*\})?$"#, options: .regularExpression) != nil, "\(line)")
            let value = try #require(Double(parts.last.map(String.init) ?? ""), "\(line)")
            samples[name] = value
        }
        #expect(samples[#"pixl_job_outcomes_total{outcome="succeeded"}"#] == 1)
        #expect(samples[#"pixl_job_outcomes_total{outcome="failed"}"#] == 0)
        #expect(samples[#"pixl_jobs{state="queued"}"#] == 1)
        #expect(samples["pixl_queue_depth"] == 1)
        #expect(samples["pixl_jobs_in_flight"] == 2)
        #expect(samples["pixl_token_bucket_rate_per_second"] == 0)
        #expect(samples[#"pixl_pipeline_step_duration_seconds_count{step="retrieve"}"#] == 1)
        #expect(samples[#"pixl_orthanc_request_duration_seconds_count{operation="POST /tools/find"}"#] == 1)
        #expect(samples[#"pixl_orthanc_errors_total{operation="GET /jobs/{id}",kind="unavailable"}"#] == 1)
    }
}
