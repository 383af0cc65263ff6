/// An archive's operation, as orthanc-raw runs it on the pipeline's behalf.
public enum ArchiveOperation: String, Sendable, Hashable {
    /// A C-FIND (`POST /modalities/{m}/query`).
    case find
    /// A C-MOVE into orthanc-raw, from its start to its end as an Orthanc job.
    case move
}

/// Hears how each archive answers the pipeline's C-FINDs and C-MOVEs: what the lanes' circuit breakers and adaptive
/// rates go by (issue 13). Only the archive's own faults count (a network error or timeout of the association, which
/// orthanc-raw reports as HTTP 5xx or a failed C-MOVE job); orthanc-raw being unreachable is not the archive's fault.
public protocol ArchiveObserver: Sendable {
    /// The archive answered after `latency` (a refusal is an answer too: the archive is up).
    func archive(_ archive: Archive, answered operation: ArchiveOperation, after latency: Duration) async
    /// The archive failed transiently.
    func archive(_ archive: Archive, faulted operation: ArchiveOperation, after latency: Duration) async
}

/// Hears nothing (`process`, and tests without lanes).
public struct NoArchiveObserver: ArchiveObserver {
    public init() {}
    public func archive(_ archive: Archive, answered operation: ArchiveOperation, after latency: Duration) async {}
    public func archive(_ archive: Archive, faulted operation: ArchiveOperation, after latency: Duration) async {}
}
