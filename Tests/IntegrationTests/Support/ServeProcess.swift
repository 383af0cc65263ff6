import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import PixlTesting
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The real `pixl-imaging serve` binary run as a child process against the lab, on a SQLite file of
/// its own and a free loopback port, talked to over HTTP.
///
/// The process is killed (SIGKILL) by ``kill()``; call it in a `defer` so that a failing test leaves
/// nothing running.
final class ServeProcess: @unchecked Sendable {
    let process = Process()
    let port: Int
    let logFile: URL
    let http = HTTPClient.shared
    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// A fresh temporary directory for a test's database and logs.
    static func temporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pixl-serve-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    /// A TCP port on 127.0.0.1 that nothing listens on right now (bound to port 0, then closed).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw LabError("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw LabError("cannot bind 127.0.0.1:0") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Starts `pixl-imaging serve` with the lab's settings, `PIXL_SECONDARY_QUERY_HOURS=always`, the
    /// SQLite file `database` and `overrides`, and waits until `/heart-beat` answers.
    ///
    /// The environment is built from scratch (PATH and HOME only are inherited) so that settings of
    /// the test run, such as PostgreSQL's `PIXL_DB_HOST`, do not leak in; the working directory is
    /// `directory`, so no `.env` is read.
    init(lab: Lab, database: URL, directory: URL, overrides: [String: String] = [:]) async throws {
        port = try Self.freePort()
        logFile = directory.appendingPathComponent("serve-\(port).log")
        var environment = lab.environment.filter { !$0.key.hasPrefix("LAB_") }
        for key in ["PATH", "HOME"] { environment[key] = ProcessInfo.processInfo.environment[key] }
        environment["PIXL_SECONDARY_QUERY_HOURS"] = "always"
        environment["PIXL_DB_PATH"] = database.path
        environment["PIXL_IMAGING_API_HOST"] = "127.0.0.1"
        environment["PIXL_IMAGING_API_PORT"] = String(port)
        environment["LOG_LEVEL"] = "DEBUG"
        environment.merge(overrides) { _, new in new }
        FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let log = try FileHandle(forWritingTo: logFile)
        process.executableURL = try Executable.pixlImaging()
        process.arguments = ["serve"]
        process.environment = environment
        process.currentDirectoryURL = directory
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try? log.close()
        do {
            try await waitUntilAnswering()
        } catch {
            kill()
            throw error
        }
    }

    deinit { kill() }

    var pid: pid_t { process.processIdentifier }

    /// SIGKILL, then reap. Safe to call more than once, or after the process ended.
    func kill() {
        guard process.isRunning else { return }
        sendSignal(pid, SIGKILL)
        process.waitUntilExit()
    }

    /// Sends `signal` and waits up to `timeout` for the process to end; its exit status, or `nil` if it
    /// still runs (it is then left running: the caller's `defer { kill() }` ends it).
    func signal(_ signal: Int32, waitingUpTo timeout: Duration) async -> Int32? {
        sendSignal(pid, signal)
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        return process.isRunning ? nil : process.terminationStatus
    }

    /// The last lines of the server's log, for failure messages.
    func logTail(_ lines: Int = 40) -> String {
        let text = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    private func waitUntilAnswering() async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            guard process.isRunning else {
                throw LabError("pixl-imaging serve exited with status \(process.terminationStatus):\n\(logTail())")
            }
            if let (status, _) = try? await request(.GET, "/heart-beat", timeout: .seconds(1)), status == 200 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw LabError("pixl-imaging serve did not answer /heart-beat within 30 s:\n\(logTail())")
    }

    // MARK: HTTP

    /// One request, with `headers` besides; the status code and the body decoded as JSON (`NSNull` when empty).
    func request(
        _ method: HTTPMethod,
        _ path: String,
        json body: Any? = nil,
        headers: [(String, String)] = [],
        timeout: TimeAmount = .seconds(10)
    ) async throws -> (Int, Any) {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        request.headers.add(contentsOf: headers)
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: body, options: [.fragmentsAllowed])))
        }
        let response = try await http.execute(request, timeout: timeout)
        let data = Data(buffer: try await response.body.collect(upTo: 16 << 20))
        let json = data.isEmpty ? NSNull() : try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        return (Int(response.status.code), json)
    }

    /// `POST /messages` with a batch (and `headers`); the ids of the jobs, in order.
    func post(messages: [[String: Any]], headers: [(String, String)] = []) async throws -> [String] {
        let (status, body) = try await request(.POST, "/messages", json: messages, headers: headers)
        guard status == 202, let jobs = (body as? [String: Any])?["jobs"] as? [[String: Any]] else {
            throw LabError("POST /messages answered \(status): \(body)")
        }
        return jobs.compactMap { $0["id"] as? String }
    }

    /// `GET /messages/{id}`.
    func job(_ id: String) async throws -> [String: Any] {
        let (status, body) = try await request(.GET, "/messages/\(id)")
        guard status == 200, let job = body as? [String: Any] else { throw LabError("GET /messages/\(id) answered \(status): \(body)") }
        return job
    }

    func jobs(_ ids: [String]) async throws -> [[String: Any]] {
        var result: [[String: Any]] = []
        for id in ids { result.append(try await job(id)) }
        return result
    }

    /// Polls the jobs until every one is in a final state (or, with `until`, until `until` holds), for
    /// at most `timeout`; their last answers.
    func waitForJobs(
        _ ids: [String],
        timeout: Duration = .seconds(60),
        until: ([[String: Any]]) -> Bool = { jobs in jobs.allSatisfy { ServeProcess.finalStates.contains($0["state"] as? String ?? "") } }
    ) async throws -> [[String: Any]] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let jobs = try await jobs(ids)
            if until(jobs) { return jobs }
            guard ContinuousClock.now < deadline else {
                throw LabError("jobs not done within \(timeout): \(Self.states(jobs))\n\(logTail())")
            }
            guard process.isRunning else { throw LabError("pixl-imaging serve exited:\n\(logTail())") }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    static let finalStates: Set<String> = ["succeeded", "discarded", "failed"]

    /// How many jobs are in each state: `["queued": 3, "succeeded": 2]`.
    static func states(_ jobs: [[String: Any]]) -> [String: Int] {
        jobs.reduce(into: [:]) { counts, job in counts[job["state"] as? String ?? "?", default: 0] += 1 }
    }
}

private func sendSignal(_ pid: pid_t, _ signal: Int32) {
    #if canImport(Glibc)
    _ = Glibc.kill(pid, signal)
    #else
    _ = Darwin.kill(pid, signal)
    #endif
}
