public import PixlCore

/// Which archives one run of the pipeline may query (issue 13).
public enum ArchiveReach: Sendable, Hashable {
    /// The primary, then the secondary within its timetable: a message processed at once (`process`).
    case both
    /// One lane's run. The primary lane hands a study the primary archive has not found to the secondary lane
    /// (``PipelineOutcome/notInPrimary(reason:)``); the secondary lane's run does not ask the primary for it again.
    case lane(Lane)
}

extension ArchivePipeline {
    /// A C-FIND of an archive, through orthanc-raw, that the archive observer hears of: an answer, or the archive's
    /// fault (``isArchiveFault(_:)``).
    func find(_ level: QueryLevel, in source: ArchiveSource, keys: [String: String]) async throws -> QueryResult {
        let started = ContinuousClock.now
        do {
            let result = try await orthanc.query(level, modality: source.modality, keys: keys)
            await observer.archive(source.archive, answered: .find, after: ContinuousClock.now - started)
            return result
        } catch let error as OrthancError where Self.isArchiveFault(error) {
            await observer.archive(source.archive, faulted: .find, after: ContinuousClock.now - started)
            throw error
        }
    }

    /// Whether a failed C-FIND is the archive's fault: orthanc-raw answered 5xx (its association with the archive
    /// failed) or did not answer in time (the archive is slow to). orthanc-raw refusing the connection is its own fault.
    static func isArchiveFault(_ error: OrthancError) -> Bool {
        error.code == .serverError || error.code == .timeout
    }
}
