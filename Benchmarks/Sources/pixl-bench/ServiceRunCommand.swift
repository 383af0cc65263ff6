import ArgumentParser
import Foundation

/// Posts every message of a file to a running service in one batch, waits until every job is final,
/// and prints the figures: studies per second from the first claim to the last final state, and
/// each job's time from its (last) claim to its final state.
struct ServiceRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "service-run",
        abstract: "Submit a message file to a running service, wait for every job, print JSON figures."
    )

    @Option(help: "The service's base URL.")
    var url = "http://127.0.0.1:8000"

    @Option(help: "A JSON array of plain messages.")
    var messages: String

    @Option(help: "Recorded in the figures.")
    var concurrency: Int = 1

    @Option(help: "Give up after this many seconds.")
    var timeout: Double = 600

    func run() async throws {
        let service = ServiceClient(base: url)
        let ids = try await service.postMessages(try Data(contentsOf: URL(fileURLWithPath: messages)))
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let status = try await service.get("/status") as? [String: Any]
            let counts = status?["counts"] as? [String: Int] ?? [:]
            let final = (counts["succeeded"] ?? 0) + (counts["discarded"] ?? 0) + (counts["failed"] ?? 0)
            if final >= ids.count { break }
            guard Date() < deadline else { throw BenchError("only \(final) of \(ids.count) jobs final after \(timeout) s") }
            try await Task.sleep(for: .milliseconds(20))
        }
        var durations: [Duration] = []
        var firstStart = Date.distantFuture
        var lastEnd = Date.distantPast
        var notSucceeded = 0
        for id in ids {
            guard let job = try await service.get("/messages/\(id)") as? [String: Any],
                let started = (job["started_at"] as? String).flatMap(parseTimestamp),
                let ended = (job["updated_at"] as? String).flatMap(parseTimestamp)
            else { throw BenchError("job \(id) has no started_at/updated_at") }
            if job["state"] as? String != "succeeded" { notSucceeded += 1 }
            durations.append(.seconds(ended.timeIntervalSince(started)))
            firstStart = min(firstStart, started)
            lastEnd = max(lastEnd, ended)
        }
        guard notSucceeded == 0 else { throw BenchError("\(notSucceeded) jobs did not succeed") }
        print(try jsonLine(Figures(durations: durations, elapsed: .seconds(lastEnd.timeIntervalSince(firstStart)), concurrency: concurrency)))
    }
}
