import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import AMQPClient

/// The handler alone, with a `NIOAsyncTestingChannel` playing the broker.
struct AMQPChannelHandlerTests {
    final class Broker: @unchecked Sendable {
        let channel = NIOAsyncTestingChannel()
        var decoder = FrameDecoder()
        var pending = ByteBuffer()

        func send(_ frames: Frame...) async throws {
            try await channel.writeInbound(FrameDecoderTests.encode(frames, frameMax: 131_072))
        }

        /// The next frame the client wrote.
        func receive() async throws -> Frame {
            while true {
                if let frame = try decoder.decode(buffer: &pending) { return frame }
                var bytes = try await channel.waitForOutboundWrite(as: ByteBuffer.self)
                pending.writeBuffer(&bytes)
            }
        }

        func receiveHeader() async throws -> [UInt8] {
            var bytes = try await channel.waitForOutboundWrite(as: ByteBuffer.self)
            return bytes.readBytes(length: 8) ?? []
        }
    }

    static let configuration = ConnectionStateMachine.Configuration(
        username: "guest", password: "guest", virtualHost: "/", frameMax: 131_072, channelMax: 10, heartbeat: 0, clientProperties: [:]
    )

    /// Runs the handshake; returns the broker and the connect promise's result.
    func connect() async throws -> (Broker, AMQPNegotiatedParameters) {
        let broker = Broker()
        let promise = broker.channel.eventLoop.makePromise(of: AMQPNegotiatedParameters.self)
        try await broker.channel.testingEventLoop.executeInContext {
            try broker.channel.pipeline.syncOperations.addHandler(
                AMQPChannelHandler(configuration: Self.configuration, connectPromise: promise, logger: Logger(label: "test"))
            )
        }
        try await broker.channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 5672))
        #expect(try await broker.receiveHeader() == amqpProtocolHeader)
        try await broker.send(.method(0, .connectionStart(.init(serverProperties: [:], mechanisms: "PLAIN", locales: "en_US"))))
        guard case .method(.connectionStartOk(let startOk)) = try await broker.receive().payload else {
            throw AMQPError(.protocolError)
        }
        #expect(startOk.response == "\0guest\0guest")
        try await broker.send(.method(0, .connectionTune(.init(channelMax: 2047, frameMax: 8192, heartbeat: 0))))
        #expect(try await broker.receive() == .method(0, .connectionTuneOk(.init(channelMax: 10, frameMax: 8192, heartbeat: 0))))
        #expect(try await broker.receive() == .method(0, .connectionOpen(virtualHost: "/")))
        try await broker.send(.method(0, .connectionOpenOk))
        return (broker, try await promise.futureResult.get())
    }

    func openChannel(_ broker: Broker) async throws -> UInt16 {
        let promise = broker.channel.eventLoop.makePromise(of: UInt16.self)
        try await broker.channel.writeOutbound(HandlerTask.openChannel(promise))
        let open = try await broker.receive()
        #expect(open.payload == .method(.channelOpen))
        try await broker.send(.method(open.channel, .channelOpenOk))
        return try await promise.futureResult.get()
    }

    @Test(.timeLimit(.minutes(1)))
    func aBrokerRejectingOurProtocolVersionFailsTheConnect() async throws {
        let broker = Broker()
        let promise = broker.channel.eventLoop.makePromise(of: AMQPNegotiatedParameters.self)
        try await broker.channel.testingEventLoop.executeInContext {
            try broker.channel.pipeline.syncOperations.addHandler(
                AMQPChannelHandler(configuration: Self.configuration, connectPromise: promise, logger: Logger(label: "test"))
            )
        }
        try await broker.channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 5672))
        _ = try await broker.receiveHeader()
        try await broker.channel.writeInbound(ByteBuffer(bytes: [0x41, 0x4D, 0x51, 0x50, 1, 1, 0, 9]))
        await #expect {
            try await promise.futureResult.get()
        } throws: { ($0 as? AMQPError)?.code == .protocolVersionMismatch }
    }

    @Test(.timeLimit(.minutes(1)))
    func handshakeNegotiates() async throws {
        let (broker, negotiated) = try await connect()
        #expect(negotiated == AMQPNegotiatedParameters(channelMax: 10, frameMax: 8192, heartbeat: 0))
        try await broker.channel.close()
    }

    @Test(.timeLimit(.minutes(1)))
    func channelCloseFromTheBrokerFailsTheRequestWithItsReplyCode() async throws {
        let (broker, _) = try await connect()
        let id = try await openChannel(broker)
        #expect(id == 1)
        let reply = broker.channel.eventLoop.makePromise(of: AMQPMethod.self)
        try await broker.channel.writeOutbound(HandlerTask.rpc(channel: id, .queueDeclare(.init(queue: "q", durable: true)), reply))
        #expect(try await broker.receive().payload == .method(.queueDeclare(.init(queue: "q", durable: true))))
        try await broker.send(.method(id, .channelClose(CloseReason(replyCode: 406, replyText: "PRECONDITION_FAILED", classID: 50, methodID: 10))))
        #expect(try await broker.receive() == .method(id, .channelCloseOk))
        await #expect {
            try await reply.futureResult.get()
        } throws: { error in
            (error as? AMQPError)?.code == .channelClosedByServer && (error as? AMQPError)?.replyCode == 406
        }
        #expect(try await openChannel(broker) == 1)
        try await broker.channel.close()
    }

    @Test(.timeLimit(.minutes(1)))
    func deliveriesReachTheConsumerAndAConnectionCloseEndsThem() async throws {
        let (broker, _) = try await connect()
        let id = try await openChannel(broker)
        let (stream, continuation) = AsyncThrowingStream<ChannelStateMachine.Content, any Error>.makeStream()
        let sink = ConsumerSink(deliver: { continuation.yield($0) }, finish: { continuation.finish(throwing: $0) })
        let tag = broker.channel.eventLoop.makePromise(of: String.self)
        try await broker.channel.writeOutbound(HandlerTask.consume(channel: id, .init(queue: "q", consumerTag: ""), sink, tag))
        _ = try await broker.receive()
        try await broker.send(.method(id, .basicConsumeOk(consumerTag: "ctag")))
        #expect(try await tag.futureResult.get() == "ctag")

        let big = ByteBuffer(repeating: 7, count: 3 * 8192)
        try await broker.send(
            .method(id, .basicDeliver(.init(consumerTag: "ctag", deliveryTag: 1, redelivered: false, exchange: "", routingKey: "q"))),
            Frame(channel: id, payload: .header(ContentHeader(bodySize: UInt64(big.readableBytes), properties: .persistent))),
            Frame(channel: id, payload: .body(big.getSlice(at: 0, length: 8000)!)),
            Frame(channel: id, payload: .body(big.getSlice(at: 8000, length: 8000)!)),
            Frame(channel: id, payload: .body(big.getSlice(at: 16000, length: big.readableBytes - 16000)!))
        )
        var iterator = stream.makeAsyncIterator()
        let content = try #require(try await iterator.next())
        #expect(content.body == big)

        // Publishing splits at the negotiated frame-max (8192).
        try await broker.channel.writeOutbound(HandlerTask.publish(channel: id, .init(exchange: "", routingKey: "q"), .persistent, big, nil))
        _ = try await broker.receive()
        _ = try await broker.receive()
        var bodyFrames = 0
        var received = 0
        while received < big.readableBytes {
            guard case .body(let chunk) = try await broker.receive().payload else { break }
            bodyFrames += 1
            received += chunk.readableBytes
        }
        #expect(bodyFrames == 4)

        try await broker.send(.method(0, .connectionClose(CloseReason(replyCode: 320, replyText: "CONNECTION_FORCED"))))
        #expect(try await broker.receive() == .method(0, .connectionCloseOk))
        await #expect {
            _ = try await iterator.next()
        } throws: { error in
            (error as? AMQPError)?.code == .connectionClosedByServer && (error as? AMQPError)?.replyCode == 320
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func publisherConfirmsCompleteOnTheBrokersAck() async throws {
        let (broker, _) = try await connect()
        let id = try await openChannel(broker)
        let selected = broker.channel.eventLoop.makePromise(of: Void.self)
        try await broker.channel.writeOutbound(HandlerTask.confirmSelect(channel: id, selected))
        #expect(try await broker.receive().payload == .method(.confirmSelect(noWait: false)))
        try await broker.send(.method(id, .confirmSelectOk))
        try await selected.futureResult.get()
        let confirms = (0..<3).map { _ in broker.channel.eventLoop.makePromise(of: Void.self) }
        for confirm in confirms {
            try await broker.channel.writeOutbound(HandlerTask.publish(channel: id, .init(exchange: "", routingKey: "q"), .persistent, ByteBuffer(string: "x"), confirm))
        }
        try await broker.send(.method(id, .basicAck(deliveryTag: 2, multiple: true)), .method(id, .basicNack(deliveryTag: 3, multiple: false, requeue: false)))
        try await confirms[0].futureResult.get()
        try await confirms[1].futureResult.get()
        await #expect(throws: AMQPError.self) { try await confirms[2].futureResult.get() }
        try await broker.channel.close()
    }
}
