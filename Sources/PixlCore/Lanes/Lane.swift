/// The queue a job waits in for one archive (issue 13): each lane has its own rate, jobs in flight, query window and
/// calendar, circuit breaker and fair share, so that one archive closed, paused or down never holds back the other.
///
/// Every job starts in the primary lane (the VNA); it enters the secondary lane (PACS) when the primary has not found it.
public enum Lane: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    case primary
    case secondary

    /// The archive the lane queries.
    public var archive: Archive {
        switch self {
        case .primary: .primary
        case .secondary: .secondary
        }
    }

    /// The lane of an archive's queries; `nil` for `local` (orthanc-raw is no archive).
    public init?(archive: Archive) {
        switch archive {
        case .primary: self = .primary
        case .secondary: self = .secondary
        case .local: return nil
        }
    }

    /// The variable-name part of the lane's settings: `PIXL_PRIMARY_RATE`, `PIXL_SECONDARY_RATE`, …
    public var variablePrefix: String { "PIXL_\(rawValue.uppercased())_" }

    public static func < (lhs: Lane, rhs: Lane) -> Bool { lhs == .primary && rhs == .secondary }
}
