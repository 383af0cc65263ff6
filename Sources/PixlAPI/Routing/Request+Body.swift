import HTTPTypes
import Hummingbird
import NIOCore

extension Request {
    /// The whole body, refused with 413 beyond `maximum` bytes (by its `Content-Length` before reading, else while reading).
    func collectBody(upTo maximum: Int) async throws -> [UInt8] {
        let tooLarge = APIError(.contentTooLarge, "The body is larger than \(maximum) bytes")
        if let length = headers[.contentLength].flatMap({ Int($0) }), length > maximum { throw tooLarge }
        do {
            return Array(try await body.collect(upTo: maximum).readableBytesView)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw tooLarge
        } catch is NIOTooManyBytesError {
            throw tooLarge
        }
    }
}
