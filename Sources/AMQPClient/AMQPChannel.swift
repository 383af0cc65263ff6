public import NIOCore

/// An AMQP channel: where queues are declared, messages published and consumers started.
///
/// > Warning: Channels are not meant to be shared by concurrent tasks that each expect replies in order; use one
/// > channel per task, or serialise calls.
public final class AMQPChannel: Sendable {
    /// The result of `queue.declare`.
    public struct QueueState: Sendable, Hashable {
        public var name: String
        public var messageCount: UInt32
        public var consumerCount: UInt32
    }

    // MARK: Member variables
    /// The channel number.
    public let id: UInt16
    public let connection: AMQPConnection

    init(id: UInt16, connection: AMQPConnection) {
        self.id = id
        self.connection = connection
    }

    // MARK: Methods
    func rpc(_ method: AMQPMethod) async throws -> AMQPMethod {
        let promise = connection.channel.eventLoop.makePromise(of: AMQPMethod.self)
        connection.write(.rpc(channel: id, method, promise))
        return try await promise.futureResult.get()
    }

    /// Declares a queue.
    ///
    /// - Parameters:
    ///   - name: The queue; empty asks the broker for a generated name.
    ///   - passive: Only check that the queue exists: fails with 404 NOT_FOUND (and closes this channel) if not.
    ///   - durable: Survives a broker restart.
    ///   - arguments: Such as `x-dead-letter-exchange` or `x-max-priority`. A redeclaration with other arguments
    ///     fails with 406 PRECONDITION_FAILED and closes the channel.
    @discardableResult
    public func declareQueue(
        _ name: String,
        passive: Bool = false,
        durable: Bool = false,
        exclusive: Bool = false,
        autoDelete: Bool = false,
        arguments: AMQPFieldTable = [:]
    ) async throws -> QueueState {
        let reply = try await rpc(
            .queueDeclare(.init(queue: name, passive: passive, durable: durable, exclusive: exclusive, autoDelete: autoDelete, arguments: arguments))
        )
        guard case .queueDeclareOk(let ok) = reply else { throw AMQPError(.protocolError) }
        return QueueState(name: ok.queue, messageCount: ok.messageCount, consumerCount: ok.consumerCount)
    }

    /// Declares an exchange (`direct`, `fanout`, `topic`, `headers`).
    public func declareExchange(_ name: String, type: String = "direct", passive: Bool = false, durable: Bool = false, autoDelete: Bool = false, arguments: AMQPFieldTable = [:]) async throws {
        _ = try await rpc(.exchangeDeclare(.init(exchange: name, type: type, passive: passive, durable: durable, autoDelete: autoDelete, arguments: arguments)))
    }

    /// Binds a queue to an exchange.
    public func bindQueue(_ queue: String, exchange: String, routingKey: String = "", arguments: AMQPFieldTable = [:]) async throws {
        _ = try await rpc(.queueBind(.init(queue: queue, exchange: exchange, routingKey: routingKey, arguments: arguments)))
    }

    /// Removes all ready messages from a queue. - Returns: how many were removed.
    @discardableResult
    public func purgeQueue(_ name: String) async throws -> UInt32 {
        guard case .queuePurgeOk(let count) = try await rpc(.queuePurge(queue: name)) else { throw AMQPError(.protocolError) }
        return count
    }

    /// Deletes a queue. - Returns: how many messages it held.
    @discardableResult
    public func deleteQueue(_ name: String, ifUnused: Bool = false, ifEmpty: Bool = false) async throws -> UInt32 {
        guard case .queueDeleteOk(let count) = try await rpc(.queueDelete(queue: name, ifUnused: ifUnused, ifEmpty: ifEmpty)) else {
            throw AMQPError(.protocolError)
        }
        return count
    }

    /// `basic.qos`: the broker sends at most `prefetchCount` unacknowledged deliveries to this channel's consumers.
    public func qos(prefetchCount: UInt16, global: Bool = false) async throws {
        _ = try await rpc(.basicQos(prefetchSize: 0, prefetchCount: prefetchCount, global: global))
    }

    /// Turns on publisher confirms: ``publish(_:exchange:routingKey:properties:mandatory:)`` then returns only once
    /// the broker has taken responsibility for the message (and throws ``AMQPError/Code-swift.struct/publishNacked`` if it refuses).
    public func confirmSelect() async throws {
        let promise = connection.channel.eventLoop.makePromise(of: Void.self)
        connection.write(.confirmSelect(channel: id, promise))
        try await promise.futureResult.get()
    }

    /// Publishes a message. The body is split into frames of at most frame-max.
    ///
    /// Without confirms this returns once the bytes are written to the socket.
    public func publish(
        _ body: ByteBuffer,
        exchange: String = "",
        routingKey: String,
        properties: AMQPProperties = .persistent,
        mandatory: Bool = false
    ) async throws {
        let promise = connection.channel.eventLoop.makePromise(of: Void.self)
        connection.write(.publish(channel: id, .init(exchange: exchange, routingKey: routingKey, mandatory: mandatory), properties, body, promise))
        try await promise.futureResult.get()
    }

    /// Starts a consumer. Prefer ``AMQPConnection/withConsumer(queue:prefetch:arguments:consume:)``, which cleans up.
    public func consume(queue: String, consumerTag: String = "", noAck: Bool = false, exclusive: Bool = false, arguments: AMQPFieldTable = [:]) async throws -> AMQPDeliverySequence {
        let (stream, continuation) = AsyncThrowingStream<AMQPDelivery, any Error>.makeStream()
        let sink = ConsumerSink(
            deliver: { [self] content in
                guard case .basicDeliver(let d) = content.method else { return }
                continuation.yield(
                    AMQPDelivery(
                        body: content.body,
                        properties: content.properties,
                        deliveryTag: d.deliveryTag,
                        redelivered: d.redelivered,
                        exchange: d.exchange,
                        routingKey: d.routingKey,
                        consumerTag: d.consumerTag,
                        channel: self
                    )
                )
            },
            finish: { error in continuation.finish(throwing: error) }
        )
        let promise = connection.channel.eventLoop.makePromise(of: String.self)
        connection.write(.consume(channel: id, .init(queue: queue, consumerTag: consumerTag, noAck: noAck, exclusive: exclusive, arguments: arguments), sink, promise))
        let tag = try await promise.futureResult.get()
        return AMQPDeliverySequence(consumerTag: tag, stream: stream)
    }

    /// Stops a consumer; its delivery sequence then finishes.
    public func cancel(consumerTag: String) async throws {
        _ = try await rpc(.basicCancel(consumerTag: consumerTag, noWait: false))
    }

    /// Acknowledges a delivery (or all up to it, with `multiple`).
    public func ack(deliveryTag: UInt64, multiple: Bool = false) async throws {
        try await send(.basicAck(deliveryTag: deliveryTag, multiple: multiple))
    }

    /// Rejects a delivery; without requeue it is dead-lettered where the queue has a dead-letter exchange.
    public func reject(deliveryTag: UInt64, requeue: Bool) async throws {
        try await send(.basicReject(deliveryTag: deliveryTag, requeue: requeue))
    }

    /// Negatively acknowledges one delivery or, with `multiple`, all up to it.
    public func nack(deliveryTag: UInt64, multiple: Bool = false, requeue: Bool) async throws {
        try await send(.basicNack(deliveryTag: deliveryTag, multiple: multiple, requeue: requeue))
    }

    /// Closes the channel (its unacknowledged deliveries go back to their queues).
    public func close() async throws {
        let promise = connection.channel.eventLoop.makePromise(of: Void.self)
        connection.write(.closeChannel(id, promise))
        try await promise.futureResult.get()
    }

    private func send(_ method: AMQPMethod) async throws {
        let promise = connection.channel.eventLoop.makePromise(of: Void.self)
        connection.write(.send(channel: id, method, promise))
        try await promise.futureResult.get()
    }
}
