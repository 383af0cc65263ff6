public import PixlCore

extension PipelineOutcome {
    /// A success holding studies known only by their Orthanc ids, for tests of stores and intake that do
    /// not look at the counts.
    public static func succeeded(archive: Archive, orthancIDs: [String]) -> PipelineOutcome {
        .succeeded(archive: archive, studies: orthancIDs.map { StudyRecord(orthancID: $0, studyInstanceUID: "", archive: archive) })
    }
}
