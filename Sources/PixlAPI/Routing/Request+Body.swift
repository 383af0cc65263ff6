import HTTPTypes
import Hummingbird
import NIOCore

extension Request {
    /// The whole body, refused with 413 beyond `maximum` bytes (by its `Content-Length` before reading, else while reading).
    func collectBody(upTo maximum: Int) async throws -> [UInt8] {
        let tooLarge = APIError(.contentTooLarge, "The body is larger than \(maximum) bytes")
        let declared = headers[.contentLength].flatMap { Int($0) }
        if let declared, declared > maximum { throw tooLarge }
        // Chunk by chunk into the one array the parser reads: the body is held once, not also as a collected buffer.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(min(max(declared ?? 0, 0), maximum))
        do {
            for try await chunk in body {
                guard chunk.readableBytes <= maximum - bytes.count else { throw tooLarge }
                bytes.append(contentsOf: chunk.readableBytesView)
            }
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw tooLarge
        }
        return bytes
    }
}
