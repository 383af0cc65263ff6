import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import PixlAPI
import PixlCore
import PixlDatabase
import PixlService
import PixlTesting
import Testing

/// The whole service in process, as `serve` assembles it: HTTP in, the worker pool, the pipeline against a fake
/// orthanc-raw, and a real SQLite file. What used to need the binary and the lab: a posted batch ends in the right
/// states, rate 0 holds everything, an unreachable orthanc-raw spends no attempts, and the metrics count it all.
@Suite(.timeLimit(.minutes(1)))
struct ServiceTests {
    /// A service over a fresh SQLite file and `orthanc`; `overrides` on top of a valid configuration.
    struct Harness {
        let store: SQLiteJobStore
        let orthanc: FakeOrthanc
        let events = JobEvents()
        let recorder: JobEventRecorder
        let metrics = PixlMetrics()
        let app: PixlApplication
        let directory: URL

        init(orthanc: FakeOrthanc = FakeOrthanc(), _ overrides: [String: String] = [:]) async throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("pixl-service-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            var logger = Logger(label: "pixl-service-tests")
            logger.logLevel = .warning
            store = try SQLiteJobStore(path: directory.appendingPathComponent("jobs.sqlite").path, logger: logger)
            try await store.migrate(logger: logger)
            self.orthanc = orthanc
            recorder = JobEventRecorder(events)
            app = try buildApplication(
                store: store,
                orthanc: orthanc,
                configuration: try .testing(["PIXL_IMAGING_API_RATE": "50", "PIXL_SECONDARY_QUERY_HOURS": "always"].merging(overrides) { _, new in new }),
                metrics: metrics,
                events: events,
                logger: logger
            )
        }

        func cleanUp() { try? FileManager.default.removeItem(at: directory) }
    }

    static let json: HTTPFields = [.contentType: "application/json"]

    static func post(_ messages: [ImagingMessage], with client: some TestClientProtocol) async throws -> [UUID] {
        let body = "[" + messages.map { $0.plainJSON() }.joined(separator: ",") + "]"
        let response = try await client.execute(uri: "/messages", method: .post, headers: json, body: ByteBuffer(string: body))
        #expect(response.status == .accepted)
        let jobs = try #require(try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any])["jobs"] as? [[String: Any]]
        return try #require(jobs).compactMap { ($0["id"] as? String).flatMap(UUID.init(uuidString:)) }
    }

    static func get(_ path: String, with client: some TestClientProtocol) async throws -> [String: Any] {
        let response = try await client.execute(uri: path, method: .get)
        #expect(response.status == .ok, "\(path)")
        return try #require(try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any])
    }

    static func archived(_ message: ImagingMessage) -> FakeOrthanc.Study {
        FakeOrthanc.Study(uid: message.studyUID, patientID: message.mrn, accessionNumber: message.accessionNumber)
    }

    @Test func postedBatchEndsInTheRightStatesWithTheStudiesInRaw() async throws {
        let messages = (1...3).map { ImagingMessage.synthetic($0, project: "e2e") }
        let orthanc = FakeOrthanc()
        await orthanc.setArchive("UCPRIMARYQR", [Self.archived(messages[0]), Self.archived(messages[1])])
        let harness = try await Harness(orthanc: orthanc)
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            let ids = try await Self.post(messages, with: client)
            #expect(ids.count == 3)
            var finals: [Job] = []
            for id in ids { finals.append(await harness.recorder.finished(id)) }
            #expect(finals.map(\.state) == [.succeeded, .succeeded, .discarded])
            #expect(finals[2].reason == "not found in primary archive and no secondary archive")

            // What the API says is what the store holds, and the studies really are in orthanc-raw, tagged.
            let job = try await Self.get("/messages/\(ids[0].uuidString.lowercased())", with: client)
            #expect(job["state"] as? String == "succeeded" && job["archive"] as? String == "primary" && job["attempts"] as? Int == 1)
            let rawStudies = await orthanc.raw
            #expect(job["studies"] as? [String] == rawStudies.filter { $0.value.uid == messages[0].studyUID }.map(\.key))
            let details = try #require(job["study_details"] as? [[String: Any]])
            #expect(details.count == 1 && details[0]["study_uid"] as? String == messages[0].studyUID)
            #expect(details[0]["archive"] as? String == "primary" && details[0]["orthanc_id"] as? String == (job["studies"] as? [String])?.first)
            #expect(details[0]["expected_instances"] as? Int == details[0]["present_instances"] as? Int)
            #expect((details[0]["series"] as? [[String: Any]])?.isEmpty == false)
            #expect(rawStudies.values.filter { $0.project == "e2e" }.map(\.uid).sorted() == [messages[0].studyUID, messages[1].studyUID].sorted())
            let status = try await Self.get("/status", with: client)
            #expect((status["counts"] as? [String: Int]).map { $0["succeeded"] == 2 && $0["discarded"] == 1 } == true)
            #expect(status["in_flight"] as? Int == 0 && status["accepting"] as? Bool == true)
            let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            #expect(metrics.contains(#"pixl_job_outcomes_total{outcome="succeeded"} 2"#))
            #expect(metrics.contains(#"pixl_jobs{state="discarded"} 1"#))
        }
    }

    @Test func rateZeroHoldsEveryJobUntilARateIsSet() async throws {
        let message = ImagingMessage.synthetic(7)
        let orthanc = FakeOrthanc()
        await orthanc.setArchive("UCPRIMARYQR", [Self.archived(message)])
        let harness = try await Harness(orthanc: orthanc, ["PIXL_IMAGING_API_RATE": "0"])
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            let id = try #require(try await Self.post([message], with: client).first)
            // The pool heard of the job and waits for a token: nothing is claimed, no attempt is spent.
            let held = try #require(try await harness.store.job(id: id))
            #expect(held.state == .queued && held.attempts == 0)
            #expect(await orthanc.calls(matching: "POST /modalities").isEmpty)
            let rate = try await Self.get("/token-bucket-refresh-rate", with: client)
            #expect(rate["rate"] as? Double == 0)

            let set = try await client.execute(
                uri: "/token-bucket-refresh-rate", method: .post, headers: Self.json, body: ByteBuffer(string: #"{"rate": 10}"#)
            )
            #expect(set.status == .ok)
            let done = await harness.recorder.finished(id)
            #expect(done.state == .succeeded && done.attempts == 1)
        }
    }

    @Test func readinessNamesWhatDoesNotAnswer() async throws {
        let orthanc = FakeOrthanc()
        let harness = try await Harness(orthanc: orthanc)
        defer { harness.cleanUp() }
        try await harness.app.test(.router) { client in
            let ready = try await client.execute(uri: "/ready", method: .get)
            #expect(ready.status == .ok)
            #expect(String(buffer: ready.body) == #"{"ready":true,"checks":{"database":"ok","orthanc_raw":"ok"}}"#)
            await orthanc.setFailure(OrthancError(code: .connection, request: "GET /jobs"))
            let notReady = try await client.execute(uri: "/ready", method: .get)
            #expect(notReady.status == .serviceUnavailable && notReady.headers[.retryAfter] != nil)
            #expect(String(buffer: notReady.body) == #"{"ready":false,"checks":{"database":"ok","orthanc_raw":"unavailable"}}"#)
            #expect(try await client.execute(uri: "/heart-beat", method: .get).status == .ok)
        }
    }

    @Test func unreachableRawSpendsNoAttemptAndStopsCleanly() async throws {
        let orthanc = FakeOrthanc()
        await orthanc.setFailure(OrthancError(code: .connection, request: "GET /jobs"))
        let harness = try await Harness(orthanc: orthanc)
        defer { harness.cleanUp() }
        let id = try await harness.app.test(.router) { client in
            let id = try #require(try await Self.post([.synthetic(1)], with: client).first)
            // The pool asks orthanc-raw whether it is busy (back-pressure) before claiming; unreachable counts as busy.
            while await orthanc.calls(matching: "GET /jobs").count < 2 { await Task.yield() }
            let status = try await Self.get("/status", with: client)
            #expect((status["counts"] as? [String: Int])?["queued"] == 1 && status["in_flight"] as? Int == 0)
            return id
        }
        // The test client's end shut the service down gracefully; the job is untouched.
        let job = try #require(try await harness.store.job(id: id))
        #expect(job.state == .queued && job.attempts == 0)
        #expect(harness.recorder.events.contains(.draining))
    }
}
