import AMQPClient
import Foundation
import PixlTesting
import Logging
import NIOCore
import Testing

/// The broker of `scripts/rabbitmq up` (scripts/test brings it up and exports `.lab/rabbitmq.env`).
enum Broker {
    /// The broker's settings (`RABBITMQ_*`), empty when it is not up (its tests then fail or are skipped: ``LiveService``).
    static var environment: [String: String] { (try? LiveService.rabbitMQ.settings()) ?? [:] }
    static var host: String { environment["RABBITMQ_HOST"] ?? "127.0.0.1" }
    static var port: Int { Int(environment["RABBITMQ_PORT"] ?? "") ?? 5672 }
    static var username: String { environment["RABBITMQ_USERNAME"] ?? "guest" }
    static var password: String { environment["RABBITMQ_PASSWORD"] ?? "guest" }

    static let repository = LiveService.repository

    static var logger: Logger {
        var logger = Logger(label: "pixl-queue-tests")
        logger.logLevel = environment["PIXL_QUEUE_TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        return logger
    }

    /// A fresh queue name for one test (letters, digits and dashes only: it is also a policy pattern).
    static func queueName(_ prefix: String) -> String {
        "pixl-intake-test-\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
    }

    static func withChannel<Result: Sendable>(_ body: (AMQPChannel) async throws -> Result) async throws -> Result {
        let connection = try await AMQPConnection.connect(
            host: host,
            port: port,
            configuration: .init(username: username, password: password, connectionName: "PixlQueueTests"),
            logger: logger
        )
        do {
            let channel = try await connection.openChannel()
            let result = try await body(channel)
            try? await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }

    static func declare(_ queue: String, arguments: AMQPFieldTable = [:]) async throws {
        try await withChannel { try await $0.declareQueue(queue, durable: true, arguments: arguments) }
    }

    /// Deletes queues with rabbitmqctl (synchronous, so it can run in a `defer`).
    static func delete(_ queues: String...) {
        for queue in queues { _ = try? script("ctl", "delete_queue", queue) }
    }

    /// Publishes with confirms, persistent, to the default exchange.
    static func publish(_ bodies: [[UInt8]], to queue: String, priority: UInt8? = nil, headers: AMQPFieldTable? = nil) async throws {
        try await withChannel { channel in
            try await channel.confirmSelect()
            for body in bodies {
                let properties = AMQPProperties(headers: headers, deliveryMode: .persistent, priority: priority)
                try await channel.publish(ByteBuffer(bytes: body), routingKey: queue, properties: properties)
            }
        }
    }

    /// Ready messages (passive declare).
    static func readyCount(_ queue: String) async throws -> Int {
        Int(try await withChannel { try await $0.declareQueue(queue, passive: true) }.messageCount)
    }

    /// Ready and unacknowledged messages, as `rabbitmqctl list_queues` reports them.
    static func counts(_ queue: String) throws -> (ready: Int, unacknowledged: Int) {
        let output = try script("ctl", "list_queues", "-q", "--no-table-headers", "name", "messages_ready", "messages_unacknowledged")
        for line in output.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            if fields.count == 3, fields[0] == queue, let ready = Int(fields[1]), let unacked = Int(fields[2]) {
                return (ready, unacked)
            }
        }
        throw ScriptError(command: "list_queues", output: "no queue \(queue) in:\n\(output)")
    }

    /// Whether the queue has no ready and no unacknowledged message.
    static func isDrained(_ queue: String) throws -> Bool {
        let counts = try counts(queue)
        return counts.ready == 0 && counts.unacknowledged == 0
    }

    /// Dead-letters `queue`'s rejected messages to `deadLetterQueue` by an operator policy, as PIXL's operators would.
    static func setDeadLetterPolicy(_ queue: String, to deadLetterQueue: String) throws {
        try script(
            "ctl", "set_policy", "--apply-to", "queues", policyName(queue), "^\(queue)$",
            #"{"dead-letter-exchange":"","dead-letter-routing-key":"\#(deadLetterQueue)"}"#
        )
    }

    static func clearPolicy(_ queue: String) {
        _ = try? script("ctl", "clear_policy", policyName(queue))
    }

    static func policyName(_ queue: String) -> String { "dlx-\(queue)" }

    /// Publishes each file's bytes with pika, as PIXL's PixlProducer does (`scripts/lib/pika_publish.py`).
    static func pikaPublish(_ files: [URL], to queue: String) throws {
        let python = try script(at: "scripts/python-pika").trimmingCharacters(in: .whitespacesAndNewlines)
        try run(python, [repository.appendingPathComponent("scripts/lib/pika_publish.py").path, "--queue", queue] + files.map(\.path))
    }

    @discardableResult
    static func script(_ arguments: String...) throws -> String {
        try run(repository.appendingPathComponent("scripts/rabbitmq").path, arguments)
    }

    @discardableResult
    static func script(at path: String) throws -> String {
        try run(repository.appendingPathComponent(path).path, [])
    }

    /// Like ``script(_:)``, off the cooperative thread pool (the script may take seconds).
    static func scriptInBackground(_ arguments: String...) async throws {
        try await CommandRunner.runInBackground(repository.appendingPathComponent("scripts/rabbitmq").path, arguments)
    }

    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        try CommandRunner.run(executable, arguments)
    }

    typealias ScriptError = CommandRunner.Failure
}

/// Polls `condition` every 50 ms until it holds or `timeout` passes.
func eventually(
    _ what: String,
    timeout: Duration = .seconds(20),
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    Issue.record("timed out waiting until \(what)")
    throw TimedOut(what: what)
}

struct TimedOut: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out waiting until \(what)" }
}
