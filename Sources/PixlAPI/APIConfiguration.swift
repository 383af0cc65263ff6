/// How the HTTP API behaves; the values come from the environment (`PixlConfiguration`).
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
    /// How long a request waits for the job store before answering 503 with `Retry-After`; 5 s by default.
    public var storeDeadline: Duration
    /// `PIXL_UI_SHOW_IDENTIFIERS`: the web console shows MRNs and accession numbers (masked by default).
    public var consoleShowsIdentifiers: Bool

    public init(
        apiToken: String? = nil,
        maxBodySize: Int = 16 * 1024 * 1024,
        maxBatchSize: Int = 10_000,
        defaultAuthority: String = "127.0.0.1:8000",
        storeDeadline: Duration = .seconds(5),
        consoleShowsIdentifiers: Bool = false
    ) {
        self.apiToken = apiToken.flatMap { $0.isEmpty ? nil : $0 }
        self.maxBodySize = maxBodySize
        self.maxBatchSize = maxBatchSize
        self.defaultAuthority = defaultAuthority
        self.storeDeadline = storeDeadline
        self.consoleShowsIdentifiers = consoleShowsIdentifiers
    }
}
