import Foundation
import HummingbirdTesting
import Logging
import PixlAPI
import PixlDatabase
import PixlService
import PixlTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Through a real socket: a request never finished is closed after the idle timeout, and an HTTP/1.0 request without
/// keep-alive is answered and closed, so that half-sent connections cannot pile up until the API stops answering.
@Suite(.timeLimit(.minutes(1)))
struct ConnectionHygieneTests {
    /// A blocking TCP connection to 127.0.0.1 with a receive timeout, for bytes the HTTP client would not send.
    struct RawConnection {
        let descriptor: Int32

        init(port: Int) throws {
            descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
            try #require(connected)
            var timeout = timeval(tv_sec: 10, tv_usec: 0)
            setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }

        func send(_ text: String) {
            _ = text.utf8CString.withUnsafeBufferPointer { Glibc.send(descriptor, $0.baseAddress, $0.count - 1, 0) }
        }

        /// Everything until the server closes the connection, or `nil` if it is still open after the receive timeout.
        func readUntilClosed() -> String? {
            var received: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = recv(descriptor, &buffer, buffer.count, 0)
                if count == 0 { return String(decoding: received, as: UTF8.self) }
                if count < 0 { return nil }
                received += buffer[0..<count]
            }
        }

        func close() { _ = Glibc.close(descriptor) }
    }

    func withLiveService(idleTimeout: Int, _ body: @escaping @Sendable (Int) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pixl-hygiene-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var logger = Logger(label: "hygiene")
        logger.logLevel = .warning
        let store = try SQLiteJobStore(path: directory.appendingPathComponent("jobs.sqlite").path, logger: logger)
        try await store.migrate(logger: logger)
        let app = try buildApplication(
            store: store, orthanc: FakeOrthanc(), configuration: try .testing(["PIXL_IMAGING_API_IDLE_TIMEOUT": String(idleTimeout)]), metrics: PixlMetrics(),
            logger: logger
        )
        try await app.test(.live) { client in try await body(try #require(client.port)) }
    }

    @Test func aRequestNeverFinishedIsClosedAfterTheIdleTimeout() async throws {
        try await withLiveService(idleTimeout: 1) { port in
            let connection = try RawConnection(port: port)
            defer { connection.close() }
            connection.send("GET /heart-beat HTTP/1.1\r\nHost: 127.0.0.1\r\n")  // no blank line: the headers never end
            #expect(connection.readUntilClosed() != nil, "still open 10 s after a 1 s idle timeout")
        }
    }

    @Test func anHTTP10RequestIsAnsweredThenClosed() async throws {
        // An idle timeout longer than the read's (10 s): only closing after the answer ends the read.
        try await withLiveService(idleTimeout: 60) { port in
            let connection = try RawConnection(port: port)
            defer { connection.close() }
            connection.send("GET /heart-beat HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            let answer = try #require(connection.readUntilClosed(), "the connection stayed open")
            #expect(answer.hasPrefix("HTTP/1.0 200") || answer.hasPrefix("HTTP/1.1 200"), "\(answer)")
            #expect(answer.hasSuffix("\"OK\""), "\(answer)")
        }
    }
}
