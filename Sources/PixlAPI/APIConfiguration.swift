/// How the HTTP API behaves; the values come from the environment in `PixlServer`.
public struct APIConfiguration: Sendable {
    /// `PIXL_IMAGING_API_TOKEN`: when set, every endpoint but `/heart-beat` and `/metrics` requires
    /// `Authorization: Bearer <token>`.
    public var apiToken: String?
    /// The largest request body accepted (413 beyond); 16 MiB by default.
    public var maxBodySize: Int
    /// The most messages accepted in one `POST /messages`; 10 000 by default.
    public var maxBatchSize: Int
    /// `host:port` used in absolute redirects when a request carries no `Host` header.
    public var defaultAuthority: String

    public init(
        apiToken: String? = nil,
        maxBodySize: Int = 16 * 1024 * 1024,
        maxBatchSize: Int = 10_000,
        defaultAuthority: String = "127.0.0.1:8000"
    ) {
        self.apiToken = apiToken.flatMap { $0.isEmpty ? nil : $0 }
        self.maxBodySize = maxBodySize
        self.maxBatchSize = maxBatchSize
        self.defaultAuthority = defaultAuthority
    }
}

/// What the worker pool tells the API about itself, for `GET /status` and `/metrics`.
public struct WorkerStatus: Sendable, Hashable {
    /// Jobs being processed right now.
    public var inFlight: Int
    /// `PIXL_MAX_MESSAGES_IN_FLIGHT`.
    public var maxInFlight: Int
    /// Whether workers are claiming jobs (false while draining for shutdown).
    public var isAccepting: Bool

    public init(inFlight: Int, maxInFlight: Int, isAccepting: Bool = true) {
        self.inFlight = inFlight
        self.maxInFlight = maxInFlight
        self.isAccepting = isAccepting
    }
}

/// The API's link to the worker pool: reads its status, and wakes it when messages arrive.
public struct StatusProvider: Sendable {
    public var workerStatus: @Sendable () async -> WorkerStatus
    /// Called after new jobs are stored, so idle workers claim them at once instead of at their next poll.
    public var wakeWorkers: @Sendable () -> Void

    public init(workerStatus: @escaping @Sendable () async -> WorkerStatus, wakeWorkers: @escaping @Sendable () -> Void = {}) {
        self.workerStatus = workerStatus
        self.wakeWorkers = wakeWorkers
    }

    /// No workers (an API-only process, or tests).
    public static func idle(maxInFlight: Int = 0) -> StatusProvider {
        StatusProvider { WorkerStatus(inFlight: 0, maxInFlight: maxInFlight, isAccepting: false) }
    }
}
