public import Logging

/// Metadata keys of this service's log lines (SPEC §9), and attribute names of its spans, namespaced like `hb.request.id`.
public enum LogKey {
    public static let jobID = "pixl.job.id"
    /// How many times the job has been claimed, this time included.
    public static let attempt = "pixl.job.attempt"
    /// The state a job was recorded in.
    public static let state = "pixl.job.state"
    public static let project = "pixl.project"
    public static let archive = "pixl.archive"
    public static let lane = "pixl.lane"
    public static let step = "pixl.step"
    public static let orthancJob = "pixl.orthanc.job"
    public static let studyUID = "pixl.study.uid"
    /// PHI: only when identifiers may be logged.
    public static let mrn = "pixl.mrn"
    /// PHI: only when identifiers may be logged.
    public static let accessionNumber = "pixl.accession_number"
}

extension ImagingMessage {
    /// Metadata for this message's log lines. MRN and accession number appear only when
    /// `includeIdentifiers` (PIXL_LOG_IDENTIFIERS=true): they are patient identifiers.
    public func logMetadata(includeIdentifiers: Bool) -> Logger.Metadata {
        var metadata: Logger.Metadata = [LogKey.project: "\(projectName)"]
        if !studyUID.isEmpty { metadata[LogKey.studyUID] = "\(studyUID)" }
        if includeIdentifiers {
            metadata[LogKey.mrn] = "\(mrn)"
            metadata[LogKey.accessionNumber] = "\(accessionNumber)"
        }
        return metadata
    }
}
