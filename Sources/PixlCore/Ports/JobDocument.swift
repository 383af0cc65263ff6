public import Foundation

/// A job as the HTTP API and `pixl-imaging process` print it (SPEC §5):
/// `{"id", "state", "reason", "attempts", "archive", "studies", "project_name", "created_at", "updated_at", "next_attempt_at"}`,
/// plus `started_at`, when a worker last claimed it.
public struct JobDocument: Encodable, Sendable, Hashable {
    public var id: String
    public var state: String
    public var reason: String?
    public var attempts: Int
    public var archive: String?
    public var studies: [String]
    public var projectName: String
    public var createdAt: String
    public var updatedAt: String
    public var startedAt: String?
    public var nextAttemptAt: String?

    public init(_ job: Job) {
        id = job.id.uuidString.lowercased()
        state = job.state.rawValue
        reason = job.reason
        attempts = job.attempts
        archive = job.archive?.rawValue
        studies = job.studies
        projectName = job.message.projectName
        createdAt = Self.timestamp(job.createdAt)
        updatedAt = Self.timestamp(job.updatedAt)
        startedAt = job.startedAt.map(Self.timestamp)
        nextAttemptAt = job.nextAttemptAt.map(Self.timestamp)
    }

    enum CodingKeys: String, CodingKey {
        case id, state, reason, attempts, archive, studies
        case projectName = "project_name"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case startedAt = "started_at"
        case nextAttemptAt = "next_attempt_at"
    }

    /// Writes every key, `null` included, so clients see the same shape for every job.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(state, forKey: .state)
        try container.encode(reason, forKey: .reason)
        try container.encode(attempts, forKey: .attempts)
        try container.encode(archive, forKey: .archive)
        try container.encode(studies, forKey: .studies)
        try container.encode(projectName, forKey: .projectName)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
        try container.encode(startedAt, forKey: .startedAt)
        try container.encode(nextAttemptAt, forKey: .nextAttemptAt)
    }

    /// ISO 8601 in UTC with milliseconds: `2026-11-29T06:20:00.123Z`.
    public static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }
}

extension Job {
    /// The job after `outcome`: its state, reason, archive, studies and next attempt time.
    public func applying(_ outcome: PipelineOutcome, now: Date) -> Job {
        var job = self
        job.state = outcome.state
        job.reason = outcome.reason
        if let archive = outcome.archive { job.archive = archive }
        job.studies = outcome.studies.isEmpty ? job.studies : outcome.studies
        job.updatedAt = now
        switch outcome {
        case .deferred(let until, _): job.nextAttemptAt = until
        case .retry(let after, _): job.nextAttemptAt = now.addingTimeInterval(after.seconds)
        default: job.nextAttemptAt = nil
        }
        return job
    }
}

extension Duration {
    /// The duration in seconds, as a `TimeInterval`.
    public var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
