import Logging
import PixlCore

/// Steps 7 and 8 for complete studies: the project tag, then the optional route to anon.
extension ArchivePipeline {
    /// Step 7 for one study, unless every instance already carries the project. Returns a discard reason
    /// when Orthanc's job failed (the study is then deleted).
    func tagIfNeeded(_ studyID: String, project: String, logger: Logger) async throws -> String? {
        guard try await orthanc.projectName(ofStudy: studyID) != project else { return nil }
        let jobID = try await orthanc.modifyStudy(id: studyID, body: .tagProject(project))
        logger.info("tagging study with its project", metadata: [LogKey.step: "tag", LogKey.orthancJob: "\(jobID)"])
        switch try await timed("tag", { try await jobFollower.follow(jobID) }) {
        case .succeeded, .evicted:
            return nil
        case .timedOut:
            throw OrthancError(code: .timeout, request: "modify job \(jobID)", detail: "did not finish within the transfer timeout")
        case .failed(let description, _):
            logger.warning("tagging failed, deleting the study: \(description)", metadata: [LogKey.step: "tag"])
            try await orthanc.deleteStudy(id: studyID)
            return "tagging the study failed: \(description)"
        }
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
