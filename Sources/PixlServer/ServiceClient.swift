import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A running service's HTTP API, with the optional bearer token: what `submit` and `report` talk to.
struct ServiceClient: Sendable {
    var baseURL: String
    var token: String?

    func send(_ method: HTTPMethod, path: String, body: String? = nil) async throws -> (status: Int, body: String) {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let token, !token.isEmpty { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        var attempt = 0
        while true {
            do {
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
                let buffer = try await response.body.collect(upTo: 64 * 1024 * 1024)
                return (Int(response.status.code), String(buffer: buffer))
            } catch {
                // Connection problems: retry a few times, then give up.
                attempt += 1
                if attempt >= 5 { throw error }
                try await Task.sleep(for: .milliseconds(200 * (1 << attempt)))
            }
        }
    }

    /// Gets `path` and writes its body as it arrives to `output`, or to standard output for `-`. A file is written under a
    /// temporary name and renamed into place once complete, so a download cut off leaves nothing half-written.
    /// - Returns: the HTTP status, and for any status but 200 the service's answer.
    func download(_ path: String, to output: String) async throws -> (status: Int, answer: String?) {
        var request = HTTPClientRequest(url: baseURL + path)
        if let token, !token.isEmpty { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        let response = try await HTTPClient.shared.execute(request, timeout: .hours(24))
        guard response.status == .ok else {
            return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 20)))
        }
        guard output != "-" else {
            for try await buffer in response.body { FileHandle.standardOutput.write(Data(buffer.readableBytesView)) }
            return (200, nil)
        }
        let partial = output + ".partial"
        guard FileManager.default.createFile(atPath: partial, contents: nil), let handle = FileHandle(forWritingAtPath: partial) else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: partial])
        }
        do {
            for try await buffer in response.body { try handle.write(contentsOf: buffer.readableBytesView) }
            try handle.close()
            if FileManager.default.fileExists(atPath: output) { try FileManager.default.removeItem(atPath: output) }
            try FileManager.default.moveItem(atPath: partial, toPath: output)
        } catch {
            try? handle.close()
            try? FileManager.default.removeItem(atPath: partial)
            throw error
        }
        return (200, nil)
    }
}

/// What a command tells its user, on standard error.
enum Terminal {
    static func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    static func line(_ text: String) {
        write(text + "\n")
    }
}
