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

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension LabSuites {
    /// The service against the Orthanc servers of `scripts/lab`, on a SQLite file of its own: in process for the
    /// whole walk, and as the real `pixl-imaging serve` child process for what only a process shows (kill -9,
    /// SIGTERM). Each test starts from `scripts/lab reset` and checks what orthanc-raw really holds.
    @Suite(.serialized, .timeLimit(.minutes(3)))
    struct ServiceLabTests {
        let lab: Lab
        let directory: URL
        var database: URL { directory.appendingPathComponent("pixl-imaging.sqlite") }

        init() throws {
            lab = try Lab.current()
            try lab.reset()
            directory = try ServeProcess.temporaryDirectory()
        }

        func serve(_ overrides: [String: String] = [:]) async throws -> ServeProcess {
            try await ServeProcess(lab: lab, database: database, directory: directory, overrides: overrides)
        }

        /// Every study of `uids` is in orthanc-raw exactly once, each instance tagged with `project`.
        func expectOneTaggedCopy(of keys: [String], project: String) async throws {
            for key in keys {
                let study = try #require(lab.studies[key])
                #expect(try await lab.rawStudies(uid: study.study_uid) == [study.orthanc_study_id!], "\(key)")
                let instances = try await lab.rawInstances(study: study.orthanc_study_id!)
                #expect(instances.count == study.instance_count, "\(key)")
                #expect(instances.allSatisfy { $0["project"] == project && $0["study"] == study.study_uid }, "\(key): \(instances)")
            }
        }

        /// The service in process against the lab's real Orthanc servers: a posted batch ends in the right states
        /// and orthanc-raw holds each study once, every instance tagged.
        @Test func postedBatchCompletesWithTheStudiesTaggedInRaw() async throws {
            let events = JobEvents()
            let recorder = JobEventRecorder(events)
            let app = try await buildApplication(
                configuration: try lab.configuration(["PIXL_IMAGING_API_RATE": "10", "PIXL_IMAGING_API_PORT": "0"]),
                database: DatabaseConfiguration(backend: .sqlite(path: database.path)),
                metrics: PixlMetrics(),
                events: events,
                logger: Logger(label: "service-lab-tests")
            )
            let keys = ["vna-single", "vna-multi", "pacs-online", "pacs-nearline"]
            try await app.test(.router) { client in
                let body = try JSONSerialization.data(withJSONObject: keys.map { try lab.plainMessage($0, project: "e2e") })
                let post = try await client.execute(
                    uri: "/messages", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(data: body)
                )
                #expect(post.status == .accepted)
                let posted = try JSONSerialization.jsonObject(with: Data(String(buffer: post.body).utf8)) as? [String: Any]
                let ids = try #require(posted?["jobs"] as? [[String: Any]]).compactMap { ($0["id"] as? String).flatMap(UUID.init(uuidString:)) }
                #expect(ids.count == keys.count)
                var byKey: [String: Job] = [:]
                for (key, id) in zip(keys, ids) { byKey[key] = await recorder.finished(id) }
                // A study the VNA has not is claimed once in each lane.
                for (key, archive, attempts) in [("vna-single", Archive.primary, 1), ("vna-multi", .primary, 1), ("pacs-online", .secondary, 2)] {
                    let job = try #require(byKey[key])
                    #expect(job.state == .succeeded && job.archive == archive && job.attempts == attempts, "\(key): \(job)")
                    let study = try #require(lab.studies[key])
                    #expect(job.studies.map(\.orthancID) == [study.orthanc_study_id], "\(key)")
                    #expect(job.studies.map(\.countDescription) == ["\(study.instance_count) of \(study.instance_count) instances"], "\(key)")
                }
                let nearline = try #require(byKey["pacs-nearline"])
                #expect(nearline.state == .discarded && nearline.reason?.contains("NEARLINE") == true, "\(nearline)")
            }
            try await expectOneTaggedCopy(of: ["vna-single", "vna-multi", "pacs-online"], project: "e2e")
            #expect(try await lab.rawStudies(uid: lab.studies["pacs-nearline"]!.study_uid).isEmpty)
        }

        /// Issue 4, item 7: kill -9 with 20 jobs under way, restart on the same database: every job ends
        /// succeeded, and no study is pulled twice.
        @Test func killedWithJobsUnderWayLosesNoneAndPullsNoStudyTwice() async throws {
            let messages = try lab.seedBench(20)
            try #require(messages.count == 20)
            let uids = messages.map { $0["study_uid"] as! String }
            let settings = ["PIXL_IMAGING_API_RATE": "4", "PIXL_MAX_MESSAGES_IN_FLIGHT": "5", "PIXL_JOB_LEASE_SECONDS": "3"]

            let first = try await serve(settings)
            defer { first.kill() }
            let ids = try await first.post(messages: messages)
            try #require(Set(ids).count == 20)
            let atKill = try await first.waitForJobs(ids, timeout: .seconds(30)) { jobs in
                let states = ServeProcess.states(jobs)
                return states["succeeded", default: 0] >= 3 && states["in_progress", default: 0] >= 1
            }
            first.kill()
            let statesAtKill = ServeProcess.states(atKill)
            #expect(statesAtKill["succeeded", default: 0] < 20, "the kill came too late to test anything: \(statesAtKill)")

            let second = try await serve(settings)
            defer { second.kill() }
            let jobs = try await second.waitForJobs(ids, timeout: .seconds(90))
            #expect(jobs.allSatisfy { $0["state"] as? String == "succeeded" }, "at kill \(statesAtKill), now \(ServeProcess.states(jobs))")
            let (_, listing) = try await second.request(.GET, "/messages?limit=100")
            #expect(((listing as? [String: Any])?["jobs"] as? [Any])?.count == 20, "\(listing)")

            // No study pulled twice: one C-MOVE per study in orthanc-raw's job history, and one copy each.
            let moves = try await lab.retrieveJobCounts(studyUIDs: uids)
            // (A study whose C-MOVE ran when the server died is found local after the restart and only tagged.)
            #expect(uids.allSatisfy { moves[$0] == 1 }, "C-MOVEs per study other than 1: \(uids.map { ($0, moves[$0] ?? 0) }.filter { $0.1 != 1 })")
            for uid in uids { #expect(try await lab.rawStudies(uid: uid).count == 1, "\(uid)") }
        }

        /// Issue 4, item 1: SIGTERM stops claiming, lets in-flight jobs finish or releases them, and exits 0.
        /// Restarted paused (rate 0), the database shows no job left `in_progress`; resumed, all complete.
        @Test func sigtermWithJobsInFlightExitsZeroLeavingNothingClaimed() async throws {
            let messages = try lab.seedBench(20)
            let settings = ["PIXL_IMAGING_API_RATE": "4", "PIXL_MAX_MESSAGES_IN_FLIGHT": "5"]
            let first = try await serve(settings)
            defer { first.kill() }
            let ids = try await first.post(messages: messages)
            _ = try await first.waitForJobs(ids, timeout: .seconds(30)) { jobs in
                let states = ServeProcess.states(jobs)
                return states["succeeded", default: 0] >= 1 && states["in_progress", default: 0] >= 1
            }
            let started = ContinuousClock.now
            let status = await first.signal(SIGTERM, waitingUpTo: .seconds(20))
            #expect(status == 0, "exit status \(status.map(String.init) ?? "none: still running after 20 s")\n\(first.logTail())")
            #expect(ContinuousClock.now - started < .seconds(15))
            first.kill()

            // The lease (60 s by default) would hold a job left in_progress long after the restart.
            let second = try await serve(["PIXL_IMAGING_API_RATE": "0"])
            defer { second.kill() }
            let afterStop = try await second.jobs(ids)
            let states = ServeProcess.states(afterStop)
            #expect(states["in_progress"] == nil, "\(states)")
            #expect(states.keys.allSatisfy { ["queued", "succeeded"].contains($0) }, "\(states)")
            #expect(states["queued", default: 0] > 0, "all finished before the stop: \(states)")

            _ = try await second.request(.POST, "/token-bucket-refresh-rate", json: ["rate": 20])
            let jobs = try await second.waitForJobs(ids, timeout: .seconds(40))
            #expect(jobs.allSatisfy { $0["state"] as? String == "succeeded" }, "\(ServeProcess.states(jobs))")
        }
    }
}
