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
public enum PipelineOutcome: Sendable, Hashable {
    /// The study is in orthanc-raw, tagged with its project.
    case succeeded(archive: Archive, studies: [String])
    /// A final, expected answer: not found, not online, an Orthanc job failure.
    case discarded(reason: String, archive: Archive? = nil)
    /// Will run again when the secondary query window opens.
    case deferred(until: Date, reason: String)
    /// A transient fault; will run again after the worker pool's back-off.
    case retry(reason: String)
    /// An unexpected error, or transient faults past the retry budget.
    case failed(error: String)

    /// The job state this outcome leaves a job in.
    public var state: JobState {
        switch self {
        case .succeeded: .succeeded
        case .discarded: .discarded
        case .deferred: .deferred
        case .retry: .retry
        case .failed: .failed
        }
    }

    /// Human-readable reason, free of patient identifiers.
    public var reason: String? {
        switch self {
        case .succeeded: nil
        case .discarded(let reason, _), .deferred(_, let reason), .retry(let reason): reason
        case .failed(let error): error
        }
    }

    public var archive: Archive? {
        switch self {
        case .succeeded(let archive, _): archive
        case .discarded(_, let archive): archive
        default: nil
        }
    }

    public var studies: [String] {
        if case .succeeded(_, let studies) = self { studies } else { [] }
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
