import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PixlAPI
import PixlCore
import PixlTesting
import Testing

struct MessagesEndpointTests {
    private let json: HTTPFields = [.contentType: "application/json"]

    @Test func postOneMessageThenReadTheJob() async throws {
        let store = InMemoryJobStore()
        let app = try APITestSupport.makeApplication(store: store)
        try await app.test(.router) { client in
            let post = try await client.execute(uri: "/messages", method: .post, headers: json, body: ByteBuffer(string: APITestSupport.message()))
            #expect(post.status == .accepted)
            #expect(post.headers[.contentType] == "application/json")
            let jobs = try #require(try APITestSupport.object(String(buffer: post.body))["jobs"] as? [[String: Any]])
            #expect(jobs.count == 1)
            let id = try #require(jobs[0]["id"] as? String)
            #expect(jobs[0]["state"] as? String == "queued")
            #expect(jobs[0]["url"] as? String == "/messages/\(id)")
            #expect(Set(jobs[0].keys) == ["id", "state", "url"])

            let get = try await client.execute(uri: "/messages/\(id)", method: .get)
            #expect(get.status == .ok)
            let body = String(buffer: get.body)
            let job = try APITestSupport.object(body)
            #expect(
                Set(job.keys) == [
                    "id", "state", "reason", "attempts", "archive", "lane", "studies", "study_details", "project_name", "priority", "created_at",
                    "updated_at", "next_attempt_at", "started_at",
                ]
            )
            #expect(job["project_name"] as? String == "test-project")
            #expect(job["attempts"] as? Int == 0)
            #expect(job["priority"] as? Int == 1)
            #expect((job["created_at"] as? String)?.hasSuffix("Z") == true)
            // No patient identifiers in the job object.
            #expect(!body.contains("MRN1") && !body.contains("ACC1"))
        }
        #expect(await store.allJobs.count == 1)
    }

    /// A valid `traceparent` (and its `tracestate`) is stored with every job of the batch, for the job's span; an
    /// invalid one is ignored, and neither is echoed.
    @Test func aTraceparentHeaderIsStoredWithTheJobsAndAnInvalidOneIgnored() async throws {
        let store = InMemoryJobStore()
        let app = try APITestSupport.makeApplication(store: store)
        let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        let batch = "[\(APITestSupport.message()),\(APITestSupport.message(mrn: "MRN2"))]"
        let traceparentField = HTTPField.Name("traceparent")!
        try await app.test(.router) { client in
            var headers = json
            headers[traceparentField] = traceparent
            headers[HTTPField.Name("tracestate")!] = "congo=t61rcWkgMzE"
            let post = try await client.execute(uri: "/messages", method: .post, headers: headers, body: ByteBuffer(string: batch))
            #expect(post.status == .accepted)
            #expect(!String(buffer: post.body).contains("4bf92f") && post.headers[traceparentField] == nil)

            headers[traceparentField] = "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"
            let invalid = try await client.execute(
                uri: "/messages", method: .post, headers: headers, body: ByteBuffer(string: APITestSupport.message(mrn: "MRN3"))
            )
            #expect(invalid.status == .accepted)
        }
        let expected = TraceContext(traceparent: traceparent, tracestate: "congo=t61rcWkgMzE")
        let stored = await store.allJobs.map(\.message)
        #expect(stored.map(\.mrn).sorted() == ["MRN1", "MRN2", "MRN3"])
        #expect(stored.filter { $0.mrn != "MRN3" }.allSatisfy { $0.traceContext == expected && expected != nil })
        #expect(stored.first { $0.mrn == "MRN3" }?.traceContext == nil)
    }

    @Test func aMessageMayCarryItsPriority() async throws {
        let store = InMemoryJobStore()
        let app = try APITestSupport.makeApplication(store: store)
        let urgent = String(APITestSupport.message().dropLast()) + #","priority":5}"#
        let wrong = String(APITestSupport.message(mrn: "MRN2").dropLast()) + #","priority":9}"#
        try await app.test(.router) { client in
            let post = try await client.execute(uri: "/messages", method: .post, headers: json, body: ByteBuffer(string: urgent))
            #expect(post.status == .accepted)
            let refused = try await client.execute(uri: "/messages", method: .post, headers: json, body: ByteBuffer(string: wrong))
            #expect(refused.status == .unprocessableContent)
            #expect(String(buffer: refused.body).contains(#""field":"priority""#))
        }
        #expect(await store.allJobs.map(\.message.priority) == [5])
    }

    @Test func identicalUnfinishedMessageReturnsTheSameJob() async throws {
        let store = InMemoryJobStore()
        let app = try APITestSupport.makeApplication(store: store)
        try await app.test(.router) { client in
            let first = try await client.execute(uri: "/messages", method: .post, headers: json, body: ByteBuffer(string: APITestSupport.message()))
            let second = try await client.execute(
                uri: "/messages", method: .post, headers: json, body: ByteBuffer(string: "[\(APITestSupport.message()),\(APITestSupport.message(mrn: "MRN2"))]")
            )
            let firstID = (try APITestSupport.object(String(buffer: first.body))["jobs"] as? [[String: Any]])?.first?["id"] as? String
            let secondJobs = try APITestSupport.object(String(buffer: second.body))["jobs"] as? [[String: Any]] ?? []
            #expect(secondJobs.count == 2)
            #expect(secondJobs.first?["id"] as? String == firstID)
            #expect(secondJobs.last?["id"] as? String != firstID)
        }
        #expect(await store.allJobs.count == 2)
    }

    @Test func listingIsNewestFirstFilteredAndPaginated() async throws {
        let store = InMemoryJobStore()
        let base = Date(timeIntervalSince1970: 1_700_000_000)
        for index in 0..<5 {
            let message = try APITestSupport.decodedMessage(mrn: "M\(index)", project: index == 4 ? "other" : "p")
            _ = try await store.enqueue([message], now: base.addingTimeInterval(Double(index)))
        }
        let app = try APITestSupport.makeApplication(store: store)
        try await app.test(.router) { client in
            let page = try await client.execute(uri: "/messages?project=p&limit=2", method: .get)
            #expect(page.status == .ok)
            let object = try APITestSupport.object(String(buffer: page.body))
            let jobs = try #require(object["jobs"] as? [[String: Any]])
            #expect(jobs.count == 2)
            #expect(jobs.map { $0["created_at"] as? String } == ["2023-11-14T22:13:23.000000Z", "2023-11-14T22:13:22.000000Z"])
            #expect(object["previous"] is NSNull)
            let next = try #require(object["next"] as? String)
            let second = try APITestSupport.object(String(buffer: try await client.execute(uri: next, method: .get).body))
            let secondJobs = try #require(second["jobs"] as? [[String: Any]])
            #expect(secondJobs.map { $0["created_at"] as? String } == ["2023-11-14T22:13:21.000000Z", "2023-11-14T22:13:20.000000Z"])
            // The project's four jobs fill two pages exactly: no third page, and the way back leads to the first.
            #expect(second["next"] is NSNull)
            let previous = try #require(second["previous"] as? String)
            let back = try APITestSupport.object(String(buffer: try await client.execute(uri: previous, method: .get).body))
            #expect((back["jobs"] as? [[String: Any]])?.map { $0["id"] as? String } == jobs.map { $0["id"] as? String })
            let window = try APITestSupport.object(
                String(buffer: try await client.execute(uri: "/messages?since=2023-11-14T22:13:21Z&until=2023-11-14T22:13:23Z", method: .get).body)
            )
            #expect((window["jobs"] as? [[String: Any]])?.map { $0["created_at"] as? String } == ["2023-11-14T22:13:22.000000Z", "2023-11-14T22:13:21.000000Z"])
            let last = try APITestSupport.object(String(buffer: try await client.execute(uri: "/messages?state=queued&limit=10", method: .get).body))
            #expect((last["jobs"] as? [[String: Any]])?.count == 5)
            #expect(last["next"] is NSNull)
            let none = try APITestSupport.object(String(buffer: try await client.execute(uri: "/messages?state=failed", method: .get).body))
            #expect((none["jobs"] as? [[String: Any]])?.isEmpty == true)
        }
    }

    @Test(arguments: [
        ("/messages/not-a-uuid", 422), ("/messages/7d0f5a8e-0000-4000-8000-000000000000", 404),
        ("/messages?state=bogus", 422), ("/messages?limit=0", 422), ("/messages?limit=abc", 422), ("/messages?limit=100000", 422),
        ("/messages?before=yesterday", 422), ("/messages?before=2023-11-14T22:13:23Z", 422), ("/messages?after=-1", 422),
        ("/messages?before=1&after=2", 422), ("/messages?since=yesterday", 422), ("/messages?until=1e3", 422),
        ("/messages?before=9999999999999999999", 422),
    ])
    func badJobQueries(uri: String, status: Int) async throws {
        let app = try APITestSupport.makeApplication()
        try await app.test(.router) { client in
            let response = try await client.execute(uri: uri, method: .get)
            #expect(response.status.code == status)
            #expect(response.headers[.contentType] == "application/json")
            #expect(try APITestSupport.object(String(buffer: response.body))["detail"] != nil)
        }
    }

    /// Bad input never gets a 500 and never reaches the store.
    @Test(arguments: [
        ("invalid JSON", "{\"mrn\": ", "application/json", 400, "not valid JSON"),
        ("bare NaN body", "NaN", "application/json", 422, "message object"),
        ("number", "42", "application/json", 422, "message object"),
        ("empty body", "", "application/json", 422, "empty"),
        ("empty array", "[]", "application/json", 422, "no messages"),
        ("wrong type", APITestSupport.message().replacingOccurrences(of: "\"procedure_occurrence_id\":4", with: "\"procedure_occurrence_id\":\"x\""),
         "application/json", 422, "procedure_occurrence_id"),
        ("missing field", APITestSupport.message().replacingOccurrences(of: "\"project_name\":\"test-project\",", with: ""),
         "application/json", 422, "project_name is missing"),
        ("bad date", APITestSupport.message().replacingOccurrences(of: "2024-01-02", with: "2024-02-30"), "application/json", 422, "study_date"),
        ("wildcard", APITestSupport.message(mrn: "M*"), "application/json", 422, "wildcard"),
        ("names no study", APITestSupport.message(mrn: "", studyUID: ""), "application/json", 422, "study_uid"),
        ("bad element in array", "[\(APITestSupport.message()),{\"mrn\":1}]", "application/json", 422, "message 1:"),
        ("array of non-objects", "[1, 2]", "application/json", 422, "message 0:"),
        ("wrong content type", APITestSupport.message(), "text/plain", 415, "Content-Type"),
        ("form", "mrn=1", "application/x-www-form-urlencoded", 415, "Content-Type"),
        ("deep nesting", String(repeating: "[", count: 100_000), "application/json", 400, "not valid JSON"),
    ] as [(String, String, String, Int, String)])
    func badInputGetsA4xxWithDetail(name: String, body: String, contentType: String, status: Int, mention: String) async throws {
        let store = InMemoryJobStore()
        let app = try APITestSupport.makeApplication(store: store)
        try await app.test(.router) { client in
            let response = try await client.execute(uri: "/messages", method: .post, headers: [.contentType: contentType], body: ByteBuffer(string: body))
            #expect(response.status.code == status, "\(name): \(String(buffer: response.body))")
            #expect(response.headers[.contentType] == "application/json", "\(name)")
            let text = String(buffer: response.body)
            #expect(text.hasPrefix("{\"detail\":"), "\(name)")
            #expect(text.contains(mention), "\(name): \(text)")
        }
        #expect(await store.allJobs.isEmpty, "\(name)")
    }

    /// A key or a pickled class name is chosen by the sender and may be an identifier: the 422 names the fields of a
    /// message and says what is wrong in fixed words, and repeats none of them (issue 11 item 6).
    @Test func identifierLikeKeysAndPickledNamesAreNotEchoed() async throws {
        let identifiers = ["MRN40800001", "ACC7700001", "Jane_Doe_19700101", "nhs.4857773456"]
        let good = APITestSupport.message()
        let bodies = [
            // An identifier as an unknown key, plain JSON and wire form.
            good.replacingOccurrences(of: "{", with: #"{"\#(identifiers[0])":"x","#),
            #"{"py/object":"core.patient_queue.message.Message","\#(identifiers[1])":1}"#,
            // As a pickled class, function and type name, at the top and inside a field.
            #"{"py/object":"\#(identifiers[2])","mrn":"x"}"#,
            #"{"py/reduce":[{"py/function":"\#(identifiers[3])"},{"py/tuple":[]}]}"#,
            #"{"py/object":"core.patient_queue.message.Message","study_date":{"py/type":"\#(identifiers[0])"}}"#,
            // All of them in one batch.
            "[\(good), {\"\(identifiers[1])\": 1}, {\"py/object\": \"\(identifiers[2])\"}]",
        ]
        let store = InMemoryJobStore()
        let app = try APITestSupport.makeApplication(store: store)
        try await app.test(.router) { client in
            for body in bodies {
                let response = try await client.execute(uri: "/messages", method: .post, headers: json, body: ByteBuffer(string: body))
                let text = String(buffer: response.body)
                #expect(response.status == .unprocessableContent, "\(text)")
                #expect(text.contains("a key that is not a message field") || text.contains("an unsupported pickled object"), "\(text)")
                for identifier in identifiers {
                    #expect(!text.contains(identifier), "\(text)")
                }
            }
        }
        #expect(await store.allJobs.isEmpty)
    }

    @Test func oversizedBodiesGet413() async throws {
        let store = InMemoryJobStore()
        let app = try APITestSupport.makeApplication(store: store, configuration: APIConfiguration(maxBodySize: 1024, maxBatchSize: 2))
        try await app.test(.router) { client in
            let big = "[" + Array(repeating: APITestSupport.message(), count: 20).joined(separator: ",") + "]"
            let response = try await client.execute(uri: "/messages", method: .post, headers: json, body: ByteBuffer(string: big))
            #expect(response.status == .contentTooLarge)
            #expect(try APITestSupport.object(String(buffer: response.body))["detail"] is String)
            let rate = try await client.execute(
                uri: "/token-bucket-refresh-rate", method: .post, headers: json, body: ByteBuffer(string: "{\"rate\": 1, \"pad\": \"\(String(repeating: "x", count: 2000))\"}")
            )
            #expect(rate.status == .contentTooLarge)
            let batch = "[" + Array(repeating: APITestSupport.message(), count: 3).joined(separator: ",") + "]"
            let tooMany = try await client.execute(uri: "/messages", method: .post, headers: json, body: ByteBuffer(string: batch))
            #expect(tooMany.status == .contentTooLarge)
        }
        #expect(await store.allJobs.isEmpty)
    }

    @Test func statusReportsCountsRateAndInFlight() async throws {
        let store = InMemoryJobStore()
        let events = JobEvents()
        let app = try APITestSupport.makeApplication(store: store, lanes: try .testing(rate: 2.5, clock: MockClock()), events: events)
        for index in 0..<3 {
            events.publish(.started(Job(id: UUID(), message: .synthetic(index), state: .inProgress, createdAt: Date(), updatedAt: Date())))
        }
        try await app.test(.router) { client in
            _ = try await client.execute(uri: "/messages", method: .post, headers: json, body: ByteBuffer(string: APITestSupport.message()))
            let response = try await client.execute(uri: "/status", method: .get)
            #expect(response.status == .ok)
            let status = try APITestSupport.object(String(buffer: response.body))
            #expect((status["counts"] as? [String: Int])?["queued"] == 1)
            #expect((status["counts"] as? [String: Int])?["failed"] == 0)
            let projects = try #require(status["projects"] as? [String: [String: Int]])
            #expect(projects.keys.sorted() == ["test-project"] && projects["test-project"]?["queued"] == 1)
            #expect(status["rate"] as? Double == 2.5)
            #expect(status["in_flight"] as? Int == 3)
            #expect(status["max_in_flight"] as? Int == 5)
            #expect(status["waiting"] as? Int == 1)
            #expect(status["oldest_waiting"] is [String: Any])
        }
    }
}
