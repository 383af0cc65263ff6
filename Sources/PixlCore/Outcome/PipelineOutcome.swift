public import Foundation

/// Where the pipeline found a study (SPEC §5 `archive`).
public enum Archive: String, Sendable, Hashable, Codable, CaseIterable {
    /// Already in orthanc-raw before any query.
    case local
    /// The VNA.
    case primary
    /// PACS.
    case secondary
}

/// What processing one message came to (SPEC §3, Outcomes).
///
/// Retry timing is not the pipeline's to decide: ``retry(reason:studies:)`` carries no delay, and the
/// worker pool alone schedules the next attempt (and turns a retry past the attempt budget into
/// ``failed(error:studies:)``).
public enum PipelineOutcome: Sendable, Hashable {
    /// Every study is in orthanc-raw with all its instances, tagged with its project. `note` says what
    /// the user may want to know (a requested series no archive has, a local study no archive lists).
    case succeeded(archive: Archive, studies: [StudyRecord], note: String? = nil)
    /// A final, expected answer: not found, not online, an Orthanc job failure.
    case discarded(reason: String, archive: Archive? = nil)
    /// Will run again when the secondary query window opens.
    case deferred(until: Date, reason: String)
    /// The primary archive has not found the study and a secondary archive is configured: the job moves to the secondary
    /// lane, where that lane's window, rate and breaker decide when it runs. Only a run of the primary lane ends so.
    case notInPrimary(reason: String)
    /// A transient fault, or studies still incomplete; will run again after the pool's back-off.
    case retry(reason: String, studies: [StudyRecord] = [])
    /// An unexpected error, a query matching too many studies, or retries past the attempt budget.
    case failed(error: String, studies: [StudyRecord] = [])

    /// The job state this outcome leaves a job in.
    public var state: JobState {
        switch self {
        case .succeeded: .succeeded
        case .discarded: .discarded
        case .deferred: .deferred
        case .notInPrimary: .queued
        case .retry: .retry
        case .failed: .failed
        }
    }

    /// Human-readable reason, free of patient identifiers (for a success, its note).
    public var reason: String? {
        switch self {
        case .succeeded(_, _, let note): note
        case .discarded(let reason, _), .deferred(_, let reason), .notInPrimary(let reason), .retry(let reason, _): reason
        case .failed(let error, _): error
        }
    }

    public var archive: Archive? {
        switch self {
        case .succeeded(let archive, _, _): archive
        case .discarded(_, let archive): archive
        default: nil
        }
    }

    /// The studies the outcome knows of, with their counts.
    public var studies: [StudyRecord] {
        switch self {
        case .succeeded(_, let studies, _), .retry(_, let studies), .failed(_, let studies): studies
        case .discarded, .deferred, .notInPrimary: []
        }
    }

    /// The Orthanc ids of a success's studies (SPEC §5 `studies`); empty for any other outcome.
    public var succeededStudyIDs: [String] {
        guard case .succeeded(_, let studies, _) = self else { return [] }
        return studies.compactMap(\.orthancID)
    }
}

/// A job's state (SPEC §5).
public enum JobState: String, Sendable, Hashable, Codable, CaseIterable {
    case queued
    case inProgress = "in_progress"
    case retry
    case deferred
    case succeeded
    case discarded
    case failed

    /// Whether nothing more will happen to the job.
    public var isFinal: Bool {
        switch self {
        case .succeeded, .discarded, .failed: true
        case .queued, .inProgress, .retry, .deferred: false
        }
    }
}
