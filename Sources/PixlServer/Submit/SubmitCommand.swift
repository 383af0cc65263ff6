import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import PixlAPI

/// `pixl-imaging submit FILE`: posts a cohort to a running service, then follows the jobs to the end.
struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Post a cohort (CSV in PIXL's columns, or JSON) to a running service and follow its jobs.",
        discussion: """
            CSV columns (PIXL's): procedure_id, mrn, accession_number, project_name, extract_generated_timestamp, \
            study_date, study_uid, participant_id (study_uid and participant_id optional; series_uid accepted). \
            A JSON file holds one message object or an array of them. Exit status: 0 when every job ended \
            succeeded or discarded, 1 when any failed or the service refused the input, 2 on --timeout.
            """
    )

    @Argument(help: "The cohort file (.csv, or .json).")
    var file: String

    @Option(help: "The service's base URL.")
    var url: String = "http://127.0.0.1:8000"

    @Option(help: "Bearer token (default: $PIXL_IMAGING_API_TOKEN).")
    var token: String?

    @Option(help: "Priority of every message, 1 (default) to 5: claimed highest first (as PIXL's `populate --priority`).")
    var priority: Int?

    @Option(help: "Messages per request.")
    var batchSize: Int = 500

    @Flag(help: "Do not follow the jobs: exit once they are submitted.")
    var noWait = false

    @Option(help: "Give up following after this many seconds.")
    var timeout: Double = 24 * 3600

    @Option(help: "Seconds between polls of unfinished jobs.")
    var pollInterval: Double = 2

    func validate() throws {
        if let priority { guard (1...5).contains(priority) else { throw ValidationError("--priority must be from 1 to 5") } }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
        guard pollInterval > 0 else { throw ValidationError("--poll-interval must be positive") }
        guard URL(string: url)?.scheme != nil else { throw ValidationError("--url must be a URL such as http://127.0.0.1:8000") }
    }

    func run() async throws {
        let bytes: [UInt8]
        do {
            bytes = Array(try Data(contentsOf: URL(fileURLWithPath: file)))
        } catch {
            throw ValidationError("cannot read \(file): \(error.localizedDescription)")
        }
        let isCSV = file.lowercased().hasSuffix(".csv") || (!file.lowercased().hasSuffix(".json") && !CohortFile.looksLikeJSON(bytes))
        let messages: [String]
        do {
            messages = try CohortFile.messages(from: bytes, isCSV: isCSV, priority: priority)
        } catch {
            throw ValidationError("\(file): \(error)")
        }
        guard !messages.isEmpty else {
            Terminal.line("\(file) holds no messages")
            return
        }
        let client = ServiceClient(
            baseURL: url.hasSuffix("/") ? String(url.dropLast()) : url,
            token: token ?? ProcessInfo.processInfo.environment["PIXL_IMAGING_API_TOKEN"]
        )
        let progress = Progress(label: "submitted", total: messages.count)
        var ids: [String] = []
        for start in stride(from: 0, to: messages.count, by: batchSize) {
            let batch = messages[start..<min(start + batchSize, messages.count)]
            let (status, body) = try await client.send(.POST, path: "/messages", body: "[" + batch.joined(separator: ",") + "]")
            guard status == 202 else {
                progress.finish()
                Terminal.line("the service refused messages \(start + 1)-\(start + batch.count) (HTTP \(status)): \(body)")
                if !ids.isEmpty { Terminal.line("\(ids.count) messages were accepted before that") }
                throw ExitCode.failure
            }
            let jobs = (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])?["jobs"] as? [[String: Any]] ?? []
            ids += jobs.compactMap { $0["id"] as? String }
            progress.update(start + batch.count)
        }
        progress.finish()
        let unique = Array(NSOrderedSet(array: ids)) as? [String] ?? ids
        Terminal.line("\(messages.count) messages submitted: \(unique.count) jobs (\(messages.count - unique.count) already waiting)")
        if noWait { return }

        // Follow the jobs until all are final.
        var states: [String: String] = [:]
        var pending = unique
        let deadline = ContinuousClock.now.advanced(by: .seconds(timeout))
        let following = Progress(label: "finished", total: unique.count)
        let finalStates: Set<String> = ["succeeded", "discarded", "failed"]
        while !pending.isEmpty {
            var stillPending: [String] = []
            for id in pending {
                let (status, body) = try await client.send(.GET, path: "/messages/\(id)")
                guard status == 200, let job = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
                    let state = job["state"] as? String
                else {
                    if status == 404 {
                        states[id] = "lost"
                        continue
                    }
                    stillPending.append(id)
                    continue
                }
                states[id] = state
                if !finalStates.contains(state) { stillPending.append(id) }
            }
            pending = stillPending
            following.update(unique.count - pending.count)
            if pending.isEmpty { break }
            if ContinuousClock.now >= deadline {
                following.finish()
                Self.printSummary(states, total: unique.count)
                Terminal.line("timed out with \(pending.count) jobs unfinished")
                throw ExitCode(2)
            }
            try await Task.sleep(for: .seconds(pollInterval))
        }
        following.finish()
        Self.printSummary(states, total: unique.count)
        if states.values.contains(where: { $0 == "failed" || $0 == "lost" }) { throw ExitCode.failure }
    }

    static func printSummary(_ states: [String: String], total: Int) {
        var counts: [String: Int] = [:]
        for state in states.values { counts[state, default: 0] += 1 }
        let order = ["succeeded", "discarded", "failed", "queued", "in_progress", "retry", "deferred", "lost"]
        let names = order.filter { counts[$0] != nil } + counts.keys.filter { !order.contains($0) }.sorted()
        print("jobs: \(total)")
        for name in names {
            print("  \(name): \(counts[name] ?? 0)")
        }
    }
}

/// A progress bar on stderr when it is a terminal; plain progress lines otherwise.
final class Progress: @unchecked Sendable {
    let label: String
    let total: Int
    private let isTerminal = isatty(STDERR_FILENO) == 1
    private var lastReported = -1
    private var lastLine = ContinuousClock.now
    private var drawn = false

    init(label: String, total: Int) {
        self.label = label
        self.total = total
    }

    func update(_ done: Int) {
        guard done != lastReported else { return }
        lastReported = done
        if isTerminal {
            let width = 30
            let filled = total == 0 ? width : width * done / total
            let percent = total == 0 ? 100 : 100 * done / total
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            Terminal.write("\r\(bar) \(done)/\(total) \(label) (\(percent)%)")
            drawn = true
        } else if done == total || ContinuousClock.now - lastLine > .seconds(5) {
            lastLine = ContinuousClock.now
            Terminal.line("\(label) \(done)/\(total)")
        }
    }

    func finish() {
        if isTerminal && drawn {
            Terminal.write("\n")
            drawn = false
        }
    }
}
