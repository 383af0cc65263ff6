import Foundation
import NIOHTTP1
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension LabSuites {
    /// The real `pixl-imaging serve` binary, run as a child process on a SQLite file of its own, against
    /// the Orthanc servers of `scripts/lab` (issue 4, items 1 and 7). Each test starts from
    /// `scripts/lab reset`, talks to the service over HTTP only, and checks what orthanc-raw really holds.
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

        @Test func postedBatchCompletesWithTheStudiesTaggedInRaw() async throws {
            let server = try await serve(["PIXL_IMAGING_API_RATE": "10"])
            defer { server.kill() }
            let keys = ["vna-single", "vna-multi", "pacs-online", "pacs-nearline"]
            let ids = try await server.post(messages: keys.map { try lab.plainMessage($0, project: "e2e") })
            #expect(ids.count == keys.count)

            let jobs = try await server.waitForJobs(ids)
            let byKey = Dictionary(uniqueKeysWithValues: zip(keys, jobs))
            for (key, archive) in [("vna-single", "primary"), ("vna-multi", "primary"), ("pacs-online", "secondary")] {
                let job = try #require(byKey[key])
                #expect(job["state"] as? String == "succeeded", "\(key): \(job)")
                #expect(job["archive"] as? String == archive, "\(key): \(job)")
                #expect(job["studies"] as? [String] == [lab.studies[key]!.orthanc_study_id!], "\(key): \(job)")
                #expect(job["attempts"] as? Int == 1, "\(key): \(job)")
            }
            let nearline = try #require(byKey["pacs-nearline"])
            #expect(nearline["state"] as? String == "discarded")
            #expect((nearline["reason"] as? String)?.contains("NEARLINE") == true, "\(nearline)")
            try await expectOneTaggedCopy(of: ["vna-single", "vna-multi", "pacs-online"], project: "e2e")
            #expect(try await lab.rawStudies(uid: lab.studies["pacs-nearline"]!.study_uid).isEmpty)
        }

        @Test func rateZeroHoldsEverythingUntilARateIsSet() async throws {
            let server = try await serve(["PIXL_IMAGING_API_RATE": "0"])
            defer { server.kill() }
            let keys = ["vna-single", "vna-multi"]
            let ids = try await server.post(messages: keys.map { try lab.plainMessage($0) })
            try await Task.sleep(for: .seconds(2))

            let waiting = try await server.jobs(ids)
            #expect(waiting.allSatisfy { $0["state"] as? String == "queued" && $0["attempts"] as? Int == 0 }, "\(waiting)")
            for key in keys { #expect(try await lab.rawStudies(uid: lab.studies[key]!.study_uid).isEmpty) }
            let (rateStatus, rate) = try await server.request(.GET, "/token-bucket-refresh-rate")
            #expect(rateStatus == 200)
            #expect((rate as? [String: Any])?["rate"] as? Double == 0)

            let (status, answer) = try await server.request(.POST, "/token-bucket-refresh-rate", json: ["rate": 10])
            #expect(status == 200)
            #expect(answer as? String == "Successfully updated the refresh rate")
            let jobs = try await server.waitForJobs(ids, timeout: .seconds(30))
            #expect(jobs.allSatisfy { $0["state"] as? String == "succeeded" }, "\(jobs)")
            try await expectOneTaggedCopy(of: keys, project: "lab-test")
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

        /// orthanc-raw unreachable (a closed port): the job waits, queued, without spending attempts, and is
        /// neither discarded nor failed; the service still stops cleanly; once raw answers, the job succeeds.
        @Test func unreachableRawLosesNothing() async throws {
            let closed = try ServeProcess.freePort()
            let first = try await serve(["PIXL_IMAGING_API_RATE": "10", "ORTHANC_RAW_URL": "http://127.0.0.1:\(closed)"])
            defer { first.kill() }
            let ids = try await first.post(messages: [try lab.plainMessage("vna-single")])
            try await Task.sleep(for: .seconds(3))
            let waiting = try await first.job(ids[0])
            #expect(waiting["state"] as? String == "queued", "\(waiting)")
            #expect(waiting["attempts"] as? Int == 0, "\(waiting)")
            let (_, status) = try await first.request(.GET, "/status")
            let counts = (status as? [String: Any])?["counts"] as? [String: Any]
            #expect(counts?["queued"] as? Int == 1, "\(status)")
            #expect(await first.signal(SIGTERM, waitingUpTo: .seconds(15)) == 0, "\(first.logTail())")

            let second = try await serve(["PIXL_IMAGING_API_RATE": "10"])
            defer { second.kill() }
            let job = try #require(try await second.waitForJobs(ids, timeout: .seconds(30)).first)
            #expect(job["state"] as? String == "succeeded", "\(job)")
            try await expectOneTaggedCopy(of: ["vna-single"], project: "lab-test")
        }
    }
}
