import Foundation
import PixlTesting

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A real OTLP/HTTP receiver, `scripts/otlp-receiver.py` (on the interpreter `scripts/python-otlp` prepares), run as a
/// child process on a loopback port of its own: every span the service exports is a line of JSON in ``spansFile``.
///
/// The process is killed by ``kill()``; call it in a `defer`.
final class OTLPReceiver: @unchecked Sendable {
    /// One exported span, as the receiver wrote it.
    struct Span {
        var traceID: String
        var spanID: String
        /// Empty for a root span.
        var parentSpanID: String
        var name: String
        /// OTLP's status code: 0 unset, 1 ok, 2 error.
        var statusCode: Int
        var attributes: [String: Any]
        var serviceName: String?
    }

    let process: Process
    let port: Int
    let spansFile: URL
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` for the service.
    var endpoint: String { "http://127.0.0.1:\(port)" }

    /// Starts the receiver, writing into `directory`, and waits until it listens.
    init(directory: URL) throws {
        let prepared = try CommandRunner.run(LiveService.repository.appendingPathComponent("scripts/python-otlp").path, [])
        guard let python = prepared.split(separator: "\n").last.map(String.init) else { throw LabError("scripts/python-otlp printed nothing") }
        spansFile = directory.appendingPathComponent("spans.jsonl")
        let portFile = directory.appendingPathComponent("otlp-receiver.out")
        FileManager.default.createFile(atPath: portFile.path, contents: nil)
        let output = try FileHandle(forWritingTo: portFile)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [LiveService.repository.appendingPathComponent("scripts/otlp-receiver.py").path, spansFile.path]
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try? output.close()
        self.process = process
        do {
            port = try Self.waitForPort(printedIn: portFile, by: process)
        } catch {
            killProcess(process.processIdentifier)
            process.waitUntilExit()
            throw error
        }
    }

    /// The port the receiver prints once it listens.
    private static func waitForPort(printedIn file: URL, by process: Process) throws -> Int {
        let deadline = ContinuousClock.now + .seconds(20)
        while true {
            let printed = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
            if printed.contains("\n"), let line = printed.split(separator: "\n").first, let port = Int(line) { return port }
            guard process.isRunning, ContinuousClock.now < deadline else { throw LabError("the OTLP receiver did not start: \(printed)") }
            usleep(50_000)
        }
    }

    deinit { kill() }

    func kill() {
        guard process.isRunning else { return }
        killProcess(process.processIdentifier)
        process.waitUntilExit()
    }

    /// Every line received so far, verbatim: spans, and any unexpected request.
    func lines() -> [String] {
        ((try? String(contentsOf: spansFile, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// The names of the metrics received so far (one per export and metric).
    func metricNames() -> Set<String> {
        Set(lines().compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["metric"] as? String
        })
    }

    /// The spans received so far.
    func spans() throws -> [Span] {
        try lines().compactMap { line in
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw LabError("not a JSON object: \(line)")
            }
            guard let name = object["name"] as? String else { return nil }
            return Span(
                traceID: object["trace_id"] as? String ?? "",
                spanID: object["span_id"] as? String ?? "",
                parentSpanID: object["parent_span_id"] as? String ?? "",
                name: name,
                statusCode: (object["status"] as? [String: Any])?["code"] as? Int ?? 0,
                attributes: object["attributes"] as? [String: Any] ?? [:],
                serviceName: object["service_name"] as? String
            )
        }
    }
}

private func killProcess(_ pid: pid_t) {
    #if canImport(Glibc)
    _ = Glibc.kill(pid, SIGKILL)
    #else
    _ = Darwin.kill(pid, SIGKILL)
    #endif
}
