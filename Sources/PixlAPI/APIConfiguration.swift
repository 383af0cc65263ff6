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
