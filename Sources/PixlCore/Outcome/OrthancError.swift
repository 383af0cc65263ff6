/// A failed call to Orthanc.
///
/// ``description`` is safe at any log level; ``debugDescription`` may carry the request path, which can
/// hold identifiers.
public struct OrthancError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        enum Base: String { case connection, timeout, serverError, clientError, badResponse }
        let base: Base

        /// Connection refused or reset: the server is down or restarting.
        public static let connection = Code(base: .connection)
        /// No answer within the configured timeout.
        public static let timeout = Code(base: .timeout)
        /// HTTP 5xx.
        public static let serverError = Code(base: .serverError)
        /// HTTP 4xx: the request itself is wrong (or the resource is gone).
        public static let clientError = Code(base: .clientError)
        /// An answer that is not what Orthanc's API documents.
        public static let badResponse = Code(base: .badResponse)

        public var description: String { base.rawValue }
    }

    public var code: Code
    /// HTTP status, when there was an answer.
    public var status: Int?
    /// Method and path of the call, e.g. `POST /modalities/VNA/query` (may hold identifiers: debug only).
    public var request: String
    /// Orthanc's own error text or the transport error (debug only).
    public var detail: String?

    public init(code: Code, status: Int? = nil, request: String, detail: String? = nil) {
        self.code = code
        self.status = status
        self.request = request
        self.detail = detail
    }

    /// Whether waiting and trying again may succeed: connection refused, timeout, HTTP 5xx.
    public var isTransient: Bool {
        switch code.base {
        case .connection, .timeout, .serverError: true
        case .clientError, .badResponse: false
        }
    }

    public var description: String {
        if let status { "Orthanc \(code) (HTTP \(status))" } else { "Orthanc \(code)" }
    }

    public var debugDescription: String {
        "Orthanc \(code) on \(request)" + (status.map { " HTTP \($0)" } ?? "") + (detail.map { ": \($0)" } ?? "")
    }
}
