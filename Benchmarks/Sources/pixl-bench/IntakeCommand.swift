import ArgumentParser
import Foundation
import PixlCore

/// Measures durable intake: posts `count` distinct synthetic messages to `POST /messages`, in batches
/// of `batch` (1 = one message per request), and prints messages per second.
struct IntakeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "intake",
        abstract: "Post synthetic messages to a paused service; print messages per second as JSON."
    )

    @Option(help: "The service's base URL.")
    var url = "http://127.0.0.1:8000"

    @Option(help: "Messages in all.")
    var count = 10_000

    @Option(help: "Messages per request.")
    var batch = 100

    @Option(help: "Requests in flight at once.")
    var connections = 4

    @Option(help: "Distinguishes the messages of separate runs (identical unfinished messages are deduplicated).")
    var runID = UUID().uuidString

    func run() async throws {
        let service = ServiceClient(base: url)
        let bodies: [Data] = stride(from: 0, to: count, by: batch).map { start in
            let messages = (start..<min(start + batch, count)).map { n in
                #"{"mrn":"BENCH-\#(runID)-\#(n)","accession_number":"ACC-\#(n)","study_uid":"","study_date":"2024-01-02","procedure_occurrence_id":\#(n),"project_name":"intake-bench","extract_generated_timestamp":"2026-11-29T09:00:00+00:00"}"#
            }
            return Data((batch == 1 ? messages[0] : "[" + messages.joined(separator: ",") + "]").utf8)
        }
        let clock = ContinuousClock()
        let started = clock.now
        let stored = try await withThrowingTaskGroup(of: Int.self) { group in
            var pending = bodies[...]
            var stored = 0
            for _ in 0..<connections {
                if let body = pending.popFirst() { group.addTask { try await service.postMessages(body).count } }
            }
            while let count = try await group.next() {
                stored += count
                if let body = pending.popFirst() { group.addTask { try await service.postMessages(body).count } }
            }
            return stored
        }
        let seconds = (clock.now - started).seconds
        print(#"{"batch":\#(batch),"messages":\#(stored),"seconds":\#(seconds),"messages_per_second":\#(Double(stored) / seconds)}"#)
    }
}
