public import Logging
public import NIOCore
public import NIOPosix

/// A connection to an AMQP 0-9-1 broker such as RabbitMQ.
///
/// ```swift
/// let connection = try await AMQPConnection.connect(host: "127.0.0.1", port: 5672, configuration: .init(), logger: logger)
/// let channel = try await connection.openChannel()
/// try await channel.declareQueue("imaging", durable: true)
/// try await channel.publish(ByteBuffer(string: "hello"), routingKey: "imaging")
/// try await connection.withConsumer(queue: "imaging", prefetch: 10) { deliveries in
///     for try await delivery in deliveries { try await delivery.ack() }
/// }
/// try await connection.close()
/// ```
public final class AMQPConnection: Sendable {
    // MARK: Member variables
    let channel: any Channel
    /// The limits agreed with the broker during tune.
    public let negotiated: AMQPNegotiatedParameters
    let logger: Logger

    /// Succeeds when the socket has closed, whatever the reason.
    public var closeFuture: EventLoopFuture<Void> { channel.closeFuture }
    public var isOpen: Bool { channel.isActive }

    // MARK: Initialization
    private init(channel: any Channel, negotiated: AMQPNegotiatedParameters, logger: Logger) {
        self.channel = channel
        self.negotiated = negotiated
        self.logger = logger
    }

    /// Connects, authenticates with PLAIN, tunes and opens the virtual host.
    ///
    /// - Parameters:
    ///   - host: The broker's host name or address.
    ///   - port: Usually 5672.
    ///   - configuration: Credentials and tune requests.
    ///   - logger: Logs connection events at debug, frames at trace.
    ///   - eventLoopGroup: Defaults to the process-wide singleton.
    /// - Returns: An open connection; close it with ``close()``.
    /// - Throws: ``AMQPError`` (e.g. ``AMQPError/Code-swift.struct/connectionClosedByServer`` with 403 on bad credentials).
    public static func connect(
        host: String,
        port: Int = 5672,
        configuration: Configuration = .init(),
        logger: Logger,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> AMQPConnection {
        let eventLoop = eventLoopGroup.next()
        let connectPromise = eventLoop.makePromise(of: AMQPNegotiatedParameters.self)
        let timeout = TimeAmount.nanoseconds(Int64(configuration.connectTimeout.components.seconds) * 1_000_000_000
            + configuration.connectTimeout.components.attoseconds / 1_000_000_000)
        let timeoutTask = eventLoop.scheduleTask(in: timeout) {
            connectPromise.fail(AMQPError(.connectTimeout))
        }
        defer { timeoutTask.cancel() }
        return try await withTaskCancellationHandler {
            let channel: any Channel
            do {
                channel = try await ClientBootstrap(group: eventLoop)
                .connectTimeout(timeout)
                .channelOption(.socketOption(.so_reuseaddr), value: 1)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let handler = AMQPChannelHandler(
                            configuration: configuration.stateMachineConfiguration,
                            connectPromise: connectPromise,
                            logger: logger
                        )
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                }
                .connect(host: host, port: port)
                .get()
            } catch {
                connectPromise.fail(error)  // never reached a handler
                throw error
            }
            channel.closeFuture.whenComplete { _ in connectPromise.fail(AMQPError(.connectionClosed)) }
            do {
                let negotiated = try await connectPromise.futureResult.get()
                return AMQPConnection(channel: channel, negotiated: negotiated, logger: logger)
            } catch {
                channel.close(promise: nil)
                throw error
            }
        } onCancel: {
            // Fails the negotiation; the body then closes the socket. A TCP connect in progress ends at connectTimeout.
            connectPromise.fail(CancellationError())
        }
    }

    // MARK: Methods
    /// Opens a new channel on this connection.
    public func openChannel() async throws -> AMQPChannel {
        let promise = channel.eventLoop.makePromise(of: UInt16.self)
        write(.openChannel(promise))
        let id = try await promise.futureResult.get()
        return AMQPChannel(id: id, connection: self)
    }

    /// Sends `connection.close`, waits for the broker's `close-ok` (5 s at most) and closes the socket.
    public func close() async throws {
        let promise = channel.eventLoop.makePromise(of: Void.self)
        write(.closeConnection(promise))
        try await promise.futureResult.get()
        try? await channel.closeFuture.get()
    }

    /// Hands a task to the handler; if the socket is already closed, fails the task's promises.
    func write(_ task: HandlerTask) {
        let written = channel.eventLoop.makePromise(of: Void.self)
        written.futureResult.whenFailure { _ in task.fail(with: AMQPError(.connectionClosed)) }
        channel.write(task, promise: written)
    }
}
