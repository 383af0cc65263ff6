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

/// Issue 11, item 2: a short outage of an archive discards nothing. The service runs in process on a SQLite file
/// against the lab's real Orthanc servers; the VNA is killed in the middle of a C-MOVE and started again, and
/// orthanc-raw itself says how it ended.
extension LabSuites.ServiceLabTests {
    /// The VNA dies (SIGKILL) while orthanc-raw pulls `vna-large` from it, with more messages under way or
    /// waiting, and comes back once the service has met the outage: every job succeeds, the interrupted
    /// study is finished by a top-up (never pulled whole again), and raw holds each study once, complete
    /// and tagged.
    @Test func vnaKilledInTheMiddleOfAMoveDiscardsNothing() async throws {
        let project = "outage"
        let keys = ["vna-large", "vna-multi", "vna-single", "vna-and-pacs"]
        // Bench studies 120 to 127: the kill -9 test counts C-MOVEs of 100 to 119 over raw's whole job history.
        let bench = try lab.seedBench(28).suffix(8).map { message in message.merging(["project_name": project]) { _, new in new } }
        let messages = try keys.map { try lab.plainMessage($0, project: project) } + bench
        // Every study's UID and how many instances its archive holds.
        var expected = try Dictionary(uniqueKeysWithValues: keys.map { key in
            let study = try #require(lab.studies[key])
            return (study.study_uid, study.instance_count)
        })
        for message in bench { expected[try #require(message["study_uid"] as? String)] = 1 }
        let large = try #require(lab.studies["vna-large"])

        let events = JobEvents()
        let recorder = JobEventRecorder(events)
        let app = try await buildApplication(
            configuration: try lab.configuration(["PIXL_IMAGING_API_RATE": "2", "PIXL_IMAGING_API_PORT": "0"]),
            database: DatabaseConfiguration(backend: .sqlite(path: database.path)),
            metrics: PixlMetrics(),
            events: events,
            logger: Logger(label: "outage-lab-tests")
        )
        let body = try JSONSerialization.data(withJSONObject: messages)
        let count = messages.count
        let marks = try await lab.marks()
        defer { try? lab.script("start", "vna") }
        let jobs: [Job] = try await app.test(.router) { client in
            let post = try await client.execute(
                uri: "/messages", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(data: body)
            )
            #expect(post.status == .accepted)
            let posted = try JSONSerialization.jsonObject(with: Data(String(buffer: post.body).utf8)) as? [String: Any]
            let ids = try #require(posted?["jobs"] as? [[String: Any]]).compactMap { ($0["id"] as? String).flatMap(UUID.init(uuidString:)) }
            try #require(ids.count == count)

            // In the middle of the C-MOVE: raw runs vna-large's study-level move and holds part of the study.
            try await until("raw is part-way through pulling vna-large") {
                let moves = try await studyLevelMoves(of: large.study_uid, since: marks)
                let arrived = try await rawInstanceCount(large.orthanc_study_id!)
                return moves == ["Running"] && (1..<large.instance_count).contains(arrived)
            }
            try lab.script("stop", "vna", "--kill")
            // Back once the service has met the outage: the interrupted job and two others are set to retry.
            _ = await recorder.first { event in
                guard case .recorded(let job) = event else { return false }
                return job.state == .retry && job.message.studyUID == large.study_uid
            }
            try await until("three jobs met the outage") {
                Set(recorder.events.compactMap { event -> UUID? in
                    if case .recorded(let job) = event, job.state == .retry { job.id } else { nil }
                }).count >= 3
            }
            try lab.script("start", "vna")
            var jobs: [Job] = []
            for id in ids { jobs.append(await recorder.finished(id)) }
            return jobs
        }

        #expect(jobs.allSatisfy { $0.state == .succeeded }, "\(jobs.filter { $0.state != .succeeded }.map { "\($0.state): \($0.reason ?? "")" })")
        let largeJob = try #require(jobs.first { $0.message.studyUID == large.study_uid })
        #expect(largeJob.attempts >= 2, "\(largeJob)")
        // From Orthanc: the one study-level C-MOVE of vna-large is the one cut off; the rest came by top-up.
        #expect(try await studyLevelMoves(of: large.study_uid, since: marks) == ["Failure"])
        let retrieves = try await lab.moveJobs(since: marks)
        #expect(retrieves.contains { $0.level != "STUDY" && $0.state == "Success" }, "\(retrieves)")
        for (uid, count) in expected {
            // No study pulled whole twice: a second study-level C-MOVE only after one that failed.
            #expect(try await studyLevelMoves(of: uid, since: marks).filter { $0 == "Success" }.count <= 1, "\(uid)")
            let copies = try await lab.rawStudies(uid: uid)
            #expect(copies.count == 1, "\(uid): \(copies)")
            guard let id = copies.first else { continue }
            let instances = try await lab.rawInstances(study: id)
            #expect(instances.count == count, "\(uid)")
            #expect(instances.allSatisfy { $0["project"] == project }, "\(uid): \(instances)")
        }
    }

    /// The states of orthanc-raw's study-level C-MOVE jobs for one study since `marks`, oldest first.
    func studyLevelMoves(of uid: String, since marks: Lab.Marks) async throws -> [String] {
        let jobs = try await lab.raw("/jobs?expand") as! [[String: Any]]
        return jobs.filter { job in
            guard job["Type"] as? String == "DicomMoveScu", !marks.jobs.contains(job["ID"] as! String) else { return false }
            let query = (job["Content"] as? [String: Any])?["Query"] as? [[String: Any]] ?? []
            return query.contains { $0["0008,0052"] as? String == "STUDY" && $0["0020,000d"] as? String == uid }
        }
        .sorted { ($0["CreationTime"] as? String ?? "") < ($1["CreationTime"] as? String ?? "") }
        .map { $0["State"] as? String ?? "" }
    }

    /// How many instances of a study orthanc-raw holds (0 before any arrived).
    func rawInstanceCount(_ id: String) async throws -> Int {
        guard let statistics = try? await lab.raw("/studies/\(id)/statistics") as? [String: Any] else { return 0 }
        return statistics["CountInstances"] as? Int ?? 0
    }

    /// Polls `condition` every 50 ms until it holds, for at most 60 s.
    func until(_ what: String, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while try await !condition() {
            guard ContinuousClock.now < deadline else { throw LabError("timed out waiting until \(what)") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
