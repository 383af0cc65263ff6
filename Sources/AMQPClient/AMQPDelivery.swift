public import NIOCore

/// A message delivered to a consumer.
public struct AMQPDelivery: Sendable {
    // MARK: Member variables
    public var body: ByteBuffer
    public var properties: AMQPProperties
    /// Channel-scoped: valid for ack only on the channel (and connection) that delivered it.
    public var deliveryTag: UInt64
    /// The broker delivered this message before (to us or another consumer) without an ack.
    public var redelivered: Bool
    public var exchange: String
    public var routingKey: String
    public var consumerTag: String
    /// The channel it came on; acks go there.
    public let channel: AMQPChannel

    // MARK: Methods
    /// Acknowledges this delivery. Throws ``AMQPError/Code-swift.struct/channelClosed`` if its channel is gone
    /// (the broker then redelivers the message).
    public func ack() async throws { try await channel.ack(deliveryTag: deliveryTag) }

    /// Rejects this delivery; without requeue it is dropped or dead-lettered.
    public func reject(requeue: Bool) async throws { try await channel.reject(deliveryTag: deliveryTag, requeue: requeue) }

    public func nack(requeue: Bool) async throws { try await channel.nack(deliveryTag: deliveryTag, requeue: requeue) }
}

/// The deliveries of one consumer, in order. Finishes when the consumer is cancelled, and throws ``AMQPError`` when
/// its channel or connection closes.
public struct AMQPDeliverySequence: AsyncSequence, Sendable {
    public typealias Element = AMQPDelivery
    public typealias Failure = any Error

    public let consumerTag: String
    let stream: AsyncThrowingStream<AMQPDelivery, any Error>

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<AMQPDelivery, any Error>.AsyncIterator
        public mutating func next() async throws -> AMQPDelivery? { try await base.next() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: stream.makeAsyncIterator()) }
}

extension AMQPConnection {
    /// Consumes a queue for the duration of `consume`, on a channel of its own with `basic.qos(prefetch)`.
    ///
    /// The consumer is cancelled and the channel closed when `consume` returns or throws; unacknowledged deliveries
    /// go back to the queue. Shaped like postgres-nio's `listen(on:consume:)`.
    ///
    /// ```swift
    /// try await connection.withConsumer(queue: "imaging", prefetch: 10) { deliveries in
    ///     for try await delivery in deliveries {
    ///         try await delivery.ack()
    ///     }
    /// }
    /// ```
    public func withConsumer<Result: Sendable>(
        queue: String,
        prefetch: UInt16,
        arguments: AMQPFieldTable = [:],
        consume: (AMQPDeliverySequence) async throws -> Result
    ) async throws -> Result {
        let channel = try await openChannel()
        do {
            try await channel.qos(prefetchCount: prefetch)
            let deliveries = try await channel.consume(queue: queue, arguments: arguments)
            let result = try await consume(deliveries)
            try? await channel.close()
            return result
        } catch {
            try? await channel.close()
            throw error
        }
    }
}
