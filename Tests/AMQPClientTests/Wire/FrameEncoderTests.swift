import NIOCore
import Testing

@testable import AMQPClient

struct FrameEncoderTests {
    static let everyFieldType: AMQPFieldTable = [
        "bool": .bool(true), "int8": .int8(-8), "uint8": .uint8(8), "int16": .int16(-16), "uint16": .uint16(16),
        "int32": .int32(-32), "uint32": .uint32(32), "int64": .int64(-64), "float": .float(1.5), "double": .double(-2.25),
        "decimal": .decimal(scale: 2, value: 12345), "string": .string("héllo"), "bytes": .bytes([0, 1, 255]),
        "array": .array([.int32(1), .string("two"), .array([.void])]), "timestamp": .timestamp(1_700_000_000),
        "table": .table(["nested": .table(["deep": .bool(false)])]), "void": .void,
    ]

    static let everyProperty = AMQPProperties(
        contentType: "application/json", contentEncoding: "utf-8", headers: everyFieldType, deliveryMode: .persistent,
        priority: 5, correlationID: "c", replyTo: "r", expiration: "60000", messageID: "m", timestamp: 1_700_000_000,
        type: "t", userID: "guest", appID: "pixl", clusterID: "x"
    )

    func roundTrip(_ frames: [Frame], frameMax: UInt32 = 4096) throws -> [Frame] {
        var bytes = FrameDecoderTests.encode(frames, frameMax: frameMax)
        var decoder = FrameDecoder()
        var decoded: [Frame] = []
        while let frame = try decoder.decode(buffer: &bytes) { decoded.append(frame) }
        #expect(bytes.readableBytes == 0)
        return decoded
    }

    @Test func methodsRoundTrip() throws {
        let methods: [AMQPMethod] = [
            .connectionStartOk(.init(clientProperties: Self.everyFieldType, mechanism: "PLAIN", response: "\0guest\0guest", locale: "en_US")),
            .connectionTuneOk(.init(channelMax: 1, frameMax: 4096, heartbeat: 2)),
            .connectionOpen(virtualHost: "/"), .connectionOpenOk, .connectionClose(CloseReason(replyCode: 320, replyText: "CONNECTION_FORCED")),
            .connectionCloseOk, .connectionBlocked(reason: "low memory"), .connectionUnblocked,
            .channelOpen, .channelOpenOk, .channelFlow(active: true), .channelCloseOk,
            .exchangeDeclare(.init(exchange: "dlx", type: "fanout", durable: true, arguments: ["a": .int8(1)])), .exchangeDeclareOk,
            .queueDeclare(.init(queue: "imaging", passive: true, durable: true, arguments: ["x-max-priority": .int32(5), "x-dead-letter-exchange": .string("dlx")])),
            .queueDeclareOk(.init(queue: "imaging", messageCount: 7, consumerCount: 1)),
            .queueBind(.init(queue: "q", exchange: "dlx", routingKey: "k")), .queueBindOk,
            .queuePurge(queue: "q"), .queuePurgeOk(messageCount: 3), .queueDelete(queue: "q", ifUnused: true, ifEmpty: false), .queueDeleteOk(messageCount: 0),
            .basicQos(prefetchSize: 0, prefetchCount: 10, global: false), .basicQosOk,
            .basicConsume(.init(queue: "q", consumerTag: "", noAck: false, exclusive: true)), .basicConsumeOk(consumerTag: "amq.ctag-1"),
            .basicCancel(consumerTag: "amq.ctag-1", noWait: false), .basicCancelOk(consumerTag: "amq.ctag-1"),
            .basicPublish(.init(exchange: "", routingKey: "q", mandatory: true)),
            .basicReturn(.init(replyCode: 312, replyText: "NO_ROUTE", exchange: "", routingKey: "q")),
            .basicAck(deliveryTag: 1 << 40, multiple: true), .basicReject(deliveryTag: 2, requeue: false),
            .basicNack(deliveryTag: 3, multiple: false, requeue: true), .basicRecover(requeue: true), .basicRecoverOk,
            .confirmSelect(noWait: false), .confirmSelectOk,
        ]
        let frames = methods.map { Frame.method(1, $0) }
        #expect(try roundTrip(frames) == frames)
    }

    @Test func everyFieldTypeAndPropertyRoundTrips() throws {
        let frame = Frame(channel: 3, payload: .header(ContentHeader(bodySize: 1 << 33, properties: Self.everyProperty)))
        #expect(try roundTrip([frame]) == [frame])
        let none = Frame(channel: 3, payload: .header(ContentHeader(bodySize: 0, properties: AMQPProperties())))
        #expect(try roundTrip([none]) == [none])
    }

    @Test(arguments: [0, 1, 4095 - 8, 4096 - 8, 4096, 3 * 4096])
    func publishSplitsTheBodyAtFrameMax(size: Int) throws {
        var encoder = FrameEncoder(buffer: ByteBuffer())
        encoder.frameMax = 4096
        let body = ByteBuffer(bytes: (0..<size).map { UInt8(truncatingIfNeeded: $0) })
        encoder.publish(.init(exchange: "", routingKey: "q"), properties: .persistent, body: body, channel: 1)
        var bytes = encoder.flushBuffer()
        var decoder = FrameDecoder()
        var frames: [Frame] = []
        while let frame = try decoder.decode(buffer: &bytes) { frames.append(frame) }
        let bodies = frames.compactMap { frame -> ByteBuffer? in
            if case .body(let b) = frame.payload { return b }
            return nil
        }
        #expect(bodies.count == (size + 4087) / 4088)
        #expect(bodies.allSatisfy { $0.readableBytes <= 4096 - 8 })
        var joined = ByteBuffer()
        for b in bodies { joined.writeImmutableBuffer(b) }
        #expect(joined == body)
        guard case .header(let header) = frames[1].payload else { throw AMQPError(.protocolError) }
        #expect(header.bodySize == UInt64(size))
        #expect(header.properties.deliveryMode == 2)
    }

    @Test func heartbeatIsEightBytes() {
        var encoder = FrameEncoder(buffer: ByteBuffer())
        encoder.heartbeat()
        #expect(Array(encoder.flushBuffer().readableBytesView) == [8, 0, 0, 0, 0, 0, 0, 0xCE])
    }

    @Test func fieldTableSubscriptKeepsOrder() {
        var table: AMQPFieldTable = ["a": .int32(1)]
        table["b"] = .bool(true)
        table["a"] = .int32(2)
        #expect(table.entries.map(\.name) == ["a", "b"])
        table["a"] = nil
        #expect(table["a"] == nil && table["b"] == .bool(true))
    }
}
