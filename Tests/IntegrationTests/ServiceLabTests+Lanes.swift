import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import PixlAPI
import PixlCore
import PixlDatabase
import PixlService
import PixlTesting
import Testing

/// Issue 13 on the lab: the PACS killed (SIGKILL) while the service runs. Its lane's breaker opens after two faults and
/// the jobs behind it spend no attempt; the VNA's lane goes on at its full rate meanwhile; the PACS back, a probe
/// closes the breaker and the secondary lane finishes its jobs. `/lanes` and `/metrics` tell it as it happens.
extension LabSuites.ServiceLabTests {
    @Test func pacsKilledOpensItsBreakerWithoutSpendingAttemptsWhileTheVNAFlows() async throws {
        let project = "lanes"
        let vnaKeys = ["vna-single", "vna-multi", "vna-shared-acc-a", "vna-shared-acc-b"]
        // Studies the VNA has not: pacs-online, and two that no archive has (each a C-FIND for the PACS).
        var secondary = [try lab.plainMessage("pacs-online", project: project)]
        for index in 1...2 {
            secondary.append(
                try lab.plainMessage("pacs-online", project: project).merging([
                    "study_uid": "2.25.9913\(index)", "mrn": "LANES-MRN-\(index)", "accession_number": "LANES-ACC-\(index)",
                ]) { _, new in new }
            )
        }
        let messages = try secondary + vnaKeys.map { try lab.plainMessage($0, project: project) }
        let body = try JSONSerialization.data(withJSONObject: messages)
        let count = messages.count
        let events = JobEvents()
        let recorder = JobEventRecorder(events)
        let app = try await buildApplication(
            configuration: try lab.configuration([
                "PIXL_IMAGING_API_RATE": "20", "PIXL_IMAGING_API_PORT": "0", "PIXL_SECONDARY_MAX_IN_FLIGHT": "1",
                "PIXL_SECONDARY_BREAKER_FAULTS": "2", "PIXL_SECONDARY_BREAKER_BACKOFF": "2",
            ]),
            database: DatabaseConfiguration(backend: .sqlite(path: database.path)),
            metrics: PixlMetrics(),
            events: events,
            logger: Logger(label: "lanes-lab-tests")
        )
        try lab.script("stop", "pacs", "--kill")
        defer { try? lab.script("start", "pacs") }
        try await app.test(.router) { client in
            let post = try await client.execute(
                uri: "/messages", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(data: body)
            )
            #expect(post.status == .accepted)
            let posted = try JSONSerialization.jsonObject(with: Data(String(buffer: post.body).utf8)) as? [String: Any]
            let ids = try #require(posted?["jobs"] as? [[String: Any]]).compactMap { ($0["id"] as? String).flatMap(UUID.init(uuidString:)) }
            try #require(ids.count == count)
            let (secondaryIDs, vnaIDs) = (ids.prefix(3), ids.dropFirst(3))

            func lane(_ name: String) async throws -> [String: Any] {
                let response = try await client.execute(uri: "/lanes", method: .get)
                let lanes = try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any]
                return try #require((lanes?["lanes"] as? [[String: Any]])?.first { $0["lane"] as? String == name })
            }
            func breaker(_ name: String) async throws -> [String: Any] { try #require(try await lane(name)["breaker"] as? [String: Any]) }

            try await until("the secondary lane's breaker opens") { try await breaker("secondary")["state"] as? String == "open" }
            #expect(try await breaker("secondary")["consecutive_faults"] as? Int == 2)
            #expect(try await breaker("primary")["state"] as? String == "closed")
            // While it is open, the job behind it waits in the secondary lane having spent only its primary attempt.
            var waiting: [[String: Any]] = []
            try await until("the primary lane has handed the three over") {
                waiting = []
                for id in secondaryIDs { waiting.append(try #require(try await jobJSON(id, client))) }
                return waiting.allSatisfy { $0["lane"] as? String == "secondary" }
            }
            #expect(waiting.contains { $0["attempts"] as? Int == 1 && $0["state"] as? String == "queued" }, "\(waiting)")
            // The VNA's lane is not held back.
            for id in vnaIDs { #expect(await recorder.finished(id).state == .succeeded) }
            #expect(try await breaker("secondary")["state"] as? String != "closed", "the PACS is still down")

            try lab.script("start", "pacs")
            var outcomes: [JobState] = []
            for id in secondaryIDs { outcomes.append(await recorder.finished(id).state) }
            #expect(outcomes == [.succeeded, .discarded, .discarded], "pacs-online pulled; the two no archive has, discarded")
            #expect(try await breaker("secondary")["state"] as? String == "closed")

            let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            #expect(metrics.contains(#"pixl_lane_breaker_transitions_total{lane="secondary",to="open"}"#), "\(metrics)")
            #expect(metrics.contains(#"pixl_lane_breaker_state{lane="secondary",state="closed"} 1"#))
        }
        try await expectOneTaggedCopy(of: vnaKeys + ["pacs-online"], project: project)
    }

    /// The real `serve`: a secondary lane closed today by its calendar opens once the file no longer closes it and
    /// SIGHUP has it re-read; `/lanes` says so, and the log has one line for the reload.
    @Test func theCalendarIsReReadOnSIGHUP() async throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/London")!
        let today = calendar.dateComponents([.year, .month, .day], from: Date())
        let file = directory.appendingPathComponent("closed.txt")
        try String(format: "%04d-%02d-%02d  # maintenance\n", today.year!, today.month!, today.day!).write(to: file, atomically: true, encoding: .utf8)
        let serve = try await serve(["PIXL_SECONDARY_CALENDAR": file.path, "TZ": "Europe/London"])
        defer { serve.kill() }
        func secondaryWindow() async throws -> [String: Any] {
            let (_, body) = try await serve.request(.GET, "/lanes")
            let lanes = try #require((body as? [String: Any])?["lanes"] as? [[String: Any]])
            return try #require(lanes.first { $0["lane"] as? String == "secondary" }?["window"] as? [String: Any])
        }
        #expect(try await secondaryWindow()["open"] as? Bool == false)
        #expect(try await secondaryWindow()["calendar"] as? String == file.path)

        try "# nothing closed\n".write(to: file, atomically: true, encoding: .utf8)
        _ = await serve.signal(SIGHUP, waitingUpTo: .zero)
        try await until("serve re-reads its calendar") { serve.logTail(200).contains("calendar re-read on SIGHUP: 0 closed days") }
        #expect(try await secondaryWindow()["open"] as? Bool == true, "\(serve.logTail())")
        #expect(serve.process.isRunning, "SIGHUP does not stop serve")
    }

    /// A job as `GET /messages/{id}` answers it.
    func jobJSON(_ id: UUID, _ client: some TestClientProtocol) async throws -> [String: Any]? {
        let response = try await client.execute(uri: "/messages/\(id.uuidString.lowercased())", method: .get)
        return try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any]
    }
}
