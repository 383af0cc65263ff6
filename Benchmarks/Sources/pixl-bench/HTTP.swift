import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// The few HTTP calls the benchmarks make to a running service.
struct ServiceClient {
    let base: String
    let http = HTTPClient.shared

    func get(_ path: String) async throws -> Any {
        let response = try await http.execute(HTTPClientRequest(url: base + path), timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 256 << 20)
        guard response.status == .ok else { throw BenchError("GET \(path) answered \(response.status.code)") }
        return try JSONSerialization.jsonObject(with: Data(buffer: body), options: [.fragmentsAllowed])
    }

    /// GETs `path` and reads the whole answer without parsing it: what a latency figure times.
    func fetch(_ path: String) async throws {
        let response = try await http.execute(HTTPClientRequest(url: base + path), timeout: .seconds(30))
        _ = try await response.body.collect(upTo: 256 << 20)
        guard response.status == .ok else { throw BenchError("GET \(path) answered \(response.status.code)") }
    }

    /// Posts raw JSON to `/messages`; returns the job ids.
    func postMessages(_ json: Data) async throws -> [String] {
        var request = HTTPClientRequest(url: base + "/messages")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(data: json))
        let response = try await http.execute(request, timeout: .seconds(60))
        let body = try await response.body.collect(upTo: 256 << 20)
        guard response.status == .accepted else {
            throw BenchError("POST /messages answered \(response.status.code): \(String(buffer: body))")
        }
        let answer = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any]
        return (answer?["jobs"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
    }
}

/// ISO 8601 timestamps as the API prints them, with fractional seconds.
func parseTimestamp(_ text: String) -> Date? {
    try? Date(text, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true))
}
