public import Logging
import NIOCore

/// Consumes a queue across connection losses: on a dropped connection, a forced close (320) or a missed heartbeat it
/// reconnects with exponential backoff, re-runs the declarations and re-consumes.
///
/// Deliveries that were not acknowledged before the loss come back from the broker with
/// ``AMQPDelivery/redelivered`` set; acknowledging a delivery from a lost connection throws
/// ``AMQPError/Code-swift.struct/channelClosed`` (the broker will redeliver it), so handlers must be idempotent.
///
/// ```swift
/// let consumer = AMQPReconnectingConsumer(host: "127.0.0.1", port: 5672, queue: "imaging", prefetch: 10, logger: logger) { channel in
///     try await channel.declareQueue("imaging", durable: true)
/// }
/// try await consumer.run { deliveries in
///     for try await delivery in deliveries { try? await delivery.ack() }
/// }
/// ```
public struct AMQPReconnectingConsumer: Sendable {
    /// Exponential backoff between reconnection attempts.
    public struct Backoff: Sendable {
        public var initial: Duration
        public var maximum: Duration
        public var multiplier: Double
        /// 100 ms, doubling, at most 5 s.
        public init(initial: Duration = .milliseconds(100), maximum: Duration = .seconds(5), multiplier: Double = 2) {
            self.initial = initial
            self.maximum = maximum
            self.multiplier = multiplier
        }

        func delay(attempt: Int) -> Duration {
            var delay = initial
            for _ in 0..<min(attempt, 32) {
                delay = delay * multiplier
                if delay >= maximum { return maximum }
            }
            return delay
        }
    }

    // MARK: Member variables
    public var host: String
    public var port: Int
    public var configuration: AMQPConnection.Configuration
    public var queue: String
    public var prefetch: UInt16
    public var backoff: Backoff
    /// Run on a fresh channel after every (re)connect, before consuming: declare the queue and whatever it needs.
    public var declare: @Sendable (AMQPChannel) async throws -> Void
    /// Called after every successful (re)connect with the number of connections made so far (1 for the first).
    public var onConnect: @Sendable (Int) -> Void
    /// Called when a connection is lost or refused (before any reconnection).
    public var onDisconnect: @Sendable () -> Void
    let logger: Logger

    // MARK: Initialization
    public init(
        host: String,
        port: Int = 5672,
        configuration: AMQPConnection.Configuration = .init(),
        queue: String,
        prefetch: UInt16,
        backoff: Backoff = .init(),
        logger: Logger,
        onConnect: @escaping @Sendable (Int) -> Void = { _ in },
        declare: @escaping @Sendable (AMQPChannel) async throws -> Void = { _ in },
        onDisconnect: @escaping @Sendable () -> Void = {}
    ) {
        self.host = host
        self.port = port
        self.configuration = configuration
        self.queue = queue
        self.prefetch = prefetch
        self.backoff = backoff
        self.logger = logger
        self.onConnect = onConnect
        self.onDisconnect = onDisconnect
        self.declare = declare
    }

    // MARK: Methods
    /// Consumes until `consume` returns. The sequence spans reconnections; it throws only for errors that a
    /// reconnect cannot fix (e.g. a 406 PRECONDITION_FAILED from `declare`, or bad credentials).
    public func run<Result: Sendable>(_ consume: (AMQPDeliverySequence) async throws -> Result) async throws -> Result {
        let (stream, continuation) = AsyncThrowingStream<AMQPDelivery, any Error>.makeStream()
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                await self.connectLoop(continuation)
            }
            defer { group.cancelAll() }
            return try await consume(AMQPDeliverySequence(consumerTag: "", stream: stream))
        }
    }

    private func connectLoop(_ continuation: AsyncThrowingStream<AMQPDelivery, any Error>.Continuation) async {
        var attempt = 0
        var connections = 0
        while !Task.isCancelled {
            var connection: AMQPConnection?
            do {
                let conn = try await AMQPConnection.connect(host: host, port: port, configuration: configuration, logger: logger)
                connection = conn
                let channel = try await conn.openChannel()
                try await declare(channel)
                try await channel.qos(prefetchCount: prefetch)
                let deliveries = try await channel.consume(queue: queue)
                connections += 1
                attempt = 0
                logger.info("AMQP consumer connected", metadata: ["amqp.connections": "\(connections)"])
                onConnect(connections)
                for try await delivery in deliveries {
                    continuation.yield(delivery)
                }
                if Task.isCancelled {
                    // Stop deliveries first (basic.cancel), then close: unacknowledged ones go back to the queue.
                    try? await channel.cancel(consumerTag: deliveries.consumerTag)
                    try? await conn.close()
                    break
                }
                throw AMQPError(.consumerCancelledByServer)
            } catch {
                onDisconnect()
                if Task.isCancelled {
                    if let connection { try? await connection.close() }
                    break
                }
                guard Self.isRetryable(error) else {
                    logger.error("AMQP consumer stopped", metadata: ["error": "\(error)"])
                    continuation.finish(throwing: error)
                    if let connection { try? await connection.close() }
                    return
                }
                let delay = backoff.delay(attempt: attempt)
                attempt += 1
                logger.warning("AMQP consumer lost its connection; reconnecting", metadata: ["error": "\(error)", "amqp.backoff": "\(delay)"])
                if let connection { connection.channel.close(promise: nil) }
                try? await Task.sleep(for: delay)
                continue
            }
        }
        continuation.finish()
    }

    /// Connection-level failures are retried; a broker refusing our declaration or credentials is not.
    static func isRetryable(_ error: any Error) -> Bool {
        guard let error = error as? AMQPError else { return true }  // socket errors: refused, reset, …
        switch error.code {
        case .connectionClosed, .missedHeartbeat, .connectTimeout, .protocolError, .consumerCancelledByServer:
            return true
        case .connectionClosedByServer:
            // 320 CONNECTION_FORCED: broker shutting down or restarting.
            return error.replyCode == AMQPError.ReplyCode.connectionForced || error.replyCode == AMQPError.ReplyCode.internalError
        default:
            return false
        }
    }
}
