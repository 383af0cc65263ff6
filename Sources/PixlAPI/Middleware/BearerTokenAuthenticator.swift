import Hummingbird
public import HummingbirdAuth

/// Whoever presented the API's bearer token (`PIXL_IMAGING_API_TOKEN`): the operator or PIXL's CLI.
public struct APIClient: Sendable {}

/// The API's request context: Hummingbird's, with the authenticated ``APIClient``.
public typealias APIContext = BasicAuthRequestContext<APIClient>

/// Authenticates `Authorization: Bearer <token>` against the configured token. The scheme is matched without
/// regard to case (RFC 7235), the token in constant time. `IsAuthenticatedMiddleware` refuses the rest.
struct BearerTokenAuthenticator: AuthenticatorMiddleware {
    typealias Context = APIContext

    let token: String

    func authenticate(request: Request, context: Context) async throws -> APIClient? {
        guard let header = request.headers[.authorization] else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer", Self.constantTimeEqual(Array(parts[1].utf8), Array(token.utf8))
        else { return nil }
        return APIClient()
    }

    /// Compares without returning early, so the time taken does not tell how much of the token was right.
    static func constantTimeEqual(_ given: [UInt8], _ expected: [UInt8]) -> Bool {
        guard !expected.isEmpty else { return false }
        var difference = given.count == expected.count ? 0 : 1
        for index in given.indices {
            difference |= Int(given[index] ^ expected[index % expected.count])
        }
        return difference == 0
    }
}
