import Logging
import PixlCore

/// Steps 7 and 8 for complete studies: the project tag, then the optional route to anon.
extension ArchivePipeline {
    /// Step 7 for one study, unless every instance already carries the project. A study pulled whole in
    /// this attempt is tagged at study level; otherwise only the series lacking the tag are (a top-up of
    /// 10 instances then rewrites their series, not the 1,000 instances of the study: `/modify` rewrites
    /// every instance it covers). Returns the outcome to stop with when the tag is not in place: discarded when
    /// Orthanc's job failed (the study is then deleted), retry when a job left Orthanc's history and the tag is
    /// not there (orthanc-raw restarted while it tagged: its jobs are forgotten and the files never rewritten).
    func tagIfNeeded(_ studyID: String, project: String, pulledWhole: Bool, logger: Logger) async throws -> PipelineOutcome? {
        guard try await orthanc.projectName(ofStudy: studyID) != project else { return nil }
        var series: [LocalSeries] = []
        if !pulledWhole {
            let all = try await orthanc.localSeries(ofStudy: studyID)
            for copy in all where try await orthanc.projectName(ofSeries: copy.id) != project {
                series.append(copy)
            }
            if series.count == all.count { series = [] }
        }
        let jobs: [String]
        if series.isEmpty {
            jobs = [try await orthanc.modifyStudy(id: studyID, body: .tagProject(project))]
        } else {
            var started: [String] = []
            for copy in series { started.append(try await orthanc.modifySeries(id: copy.id, body: .tagProject(project))) }
            jobs = started
        }
        logger.info(
            "tagging \(series.isEmpty ? "study" : "\(series.count) series") with its project",
            metadata: [LogKey.step: "tag", LogKey.orthancJob: "\(jobs.joined(separator: ","))"]
        )
        var unconfirmed = false
        for jobID in jobs {
            switch try await timed("tag", { try await jobFollower.follow(jobID) }) {
            case .succeeded:
                continue
            case .evicted:
                unconfirmed = true
            case .timedOut:
                throw OrthancError(code: .timeout, request: "modify job \(jobID)", detail: "did not finish within the transfer timeout")
            case .failed(let description, _):
                logger.warning("tagging failed, deleting the study: \(description)", metadata: [LogKey.step: "tag"])
                try await orthanc.deleteStudy(id: studyID)
                return .discarded(reason: "tagging the study failed: \(description)")
            }
        }
        if unconfirmed, try await orthanc.projectName(ofStudy: studyID) != project {
            logger.warning("tagging job left orthanc-raw's history and the study is not tagged: will retry", metadata: [LogKey.step: "tag"])
            return .retry(reason: "tagging the study did not take effect (orthanc-raw lost the job): will tag again")
        }
        return nil
    }

    /// Step 8: C-STORE the studies to anon. Returns the outcome when that did not work.
    func routeToAnon(_ studyIDs: [String], logger: Logger) async throws -> PipelineOutcome? {
        let jobID = try await orthanc.store(studyIDs: studyIDs, modality: configuration.anonModality)
        logger.info("sending study to anon", metadata: [LogKey.step: "route-anon", LogKey.orthancJob: "\(jobID)"])
        switch try await timed("route_to_anon", { try await jobFollower.follow(jobID) }) {
        case .succeeded, .evicted: return nil
        case .failed(let description, _): return .discarded(reason: "sending to anon failed: \(description)", archive: nil)
        case .timedOut: return .retry(reason: "sending to anon did not finish within the transfer timeout")
        }
    }
}
