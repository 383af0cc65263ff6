import AMQPClient
import Foundation
import PixlTesting
import Logging
import Testing
import NIOCore

/// The broker of `scripts/rabbitmq up`, from the environment it writes (`.lab/rabbitmq.env`).
enum RabbitMQ {
    /// The broker's settings (`RABBITMQ_*`), empty when it is not up (its tests then fail or are skipped: ``LiveService``).
    static var environment: [String: String] { (try? LiveService.rabbitMQ.settings()) ?? [:] }
    static var host: String { environment["RABBITMQ_HOST"] ?? "127.0.0.1" }
    static var port: Int { Int(environment["RABBITMQ_PORT"] ?? "") ?? 5672 }
    static var configuration: AMQPConnection.Configuration {
        AMQPConnection.Configuration(
            username: environment["RABBITMQ_USERNAME"] ?? "guest",
            password: environment["RABBITMQ_PASSWORD"] ?? "guest",
            connectionName: "AMQPClientTests"
        )
    }
    static var logger: Logger {
        var logger = Logger(label: "amqp-tests")
        logger.logLevel = environment["AMQP_TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        return logger
    }

    static func connect(_ configure: (inout AMQPConnection.Configuration) -> Void = { _ in }) async throws -> AMQPConnection {
        var configuration = configuration
        configure(&configuration)
        return try await AMQPConnection.connect(host: host, port: port, configuration: configuration, logger: logger)
    }

    /// A fresh queue name for one test.
    static func queueName(_ prefix: String) -> String { "amqp-test.\(prefix).\(UUID().uuidString.prefix(8))" }

    static var repository: URL { LiveService.repository }

    /// Runs `scripts/rabbitmq ARGS…` and returns its output.
    @discardableResult
    static func script(_ arguments: String...) throws -> String {
        try run(repository.appendingPathComponent("scripts/rabbitmq").path, arguments)
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
