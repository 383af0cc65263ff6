import NIOCore
import NIOTestUtils
import Testing

@testable import AMQPClient

struct FrameDecoderTests {
    static func encode(_ frames: [Frame], frameMax: UInt32 = 4096) -> ByteBuffer {
        var encoder = FrameEncoder(buffer: ByteBuffer())
        encoder.frameMax = frameMax
        for frame in frames { encoder.frame(frame) }
        return encoder.flushBuffer()
    }

    static let sampleFrames: [Frame] = [
        .method(0, .connectionStart(.init(serverProperties: ["product": .string("RabbitMQ"), "capabilities": .table(["basic.nack": .bool(true)])], mechanisms: "AMQPLAIN PLAIN", locales: "en_US"))),
        .method(0, .connectionTune(.init(channelMax: 2047, frameMax: 131_072, heartbeat: 60))),
        .heartbeat,
        .method(1, .basicDeliver(.init(consumerTag: "ctag", deliveryTag: 42, redelivered: true, exchange: "", routingKey: "imaging"))),
        Frame(channel: 1, payload: .header(ContentHeader(bodySize: 5, properties: AMQPProperties(contentType: "application/json", deliveryMode: .persistent)))),
        Frame(channel: 1, payload: .body(ByteBuffer(string: "hello"))),
        .method(1, .channelClose(CloseReason(replyCode: 406, replyText: "PRECONDITION_FAILED - inequivalent arg", classID: 50, methodID: 10))),
    ]

    @Test func decodesFramesFedByteByByteAndInEveryOtherSplit() throws {
        let pairs = Self.sampleFrames.map { (Self.encode([$0]), [$0]) }
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) { FrameDecoder() }
    }

    @Test func returnsNilOnShortInputAndLeavesTheReaderIndex() throws {
        var decoder = FrameDecoder()
        let whole = Self.encode([Self.sampleFrames[1]])
        for length in 0..<whole.readableBytes {
            var partial = whole.getSlice(at: 0, length: length)!
            #expect(try decoder.decode(buffer: &partial) == nil)
            #expect(partial.readerIndex == 0)
        }
        var all = whole
        #expect(try decoder.decode(buffer: &all) == Self.sampleFrames[1])
        #expect(all.readableBytes == 0)
    }

    @Test func rejectsAMissingFrameEnd() throws {
        var bytes = Self.encode([.heartbeat])
        bytes.setInteger(UInt8(0xCD), at: bytes.writerIndex - 1)
        var decoder = FrameDecoder()
        #expect(throws: AMQPWireError.self) { try decoder.decode(buffer: &bytes) }
    }

    @Test func rejectsAnUnknownFrameType() throws {
        var bytes = ByteBuffer(bytes: [9, 0, 0, 0, 0, 0, 0, 0xCE])
        var decoder = FrameDecoder()
        #expect(throws: AMQPWireError.self) { try decoder.decode(buffer: &bytes) }
    }

    @Test func rejectsAFrameLargerThanTheLimit() throws {
        var bytes = Self.encode([Frame(channel: 1, payload: .body(ByteBuffer(repeating: 1, count: 5000)))], frameMax: 8192)
        var decoder = FrameDecoder(maximumFrameSize: 4096)
        #expect(throws: AMQPWireError.frameTooLarge(5000)) { try decoder.decode(buffer: &bytes) }
    }

    @Test func reportsTheServersProtocolHeaderAsAVersionMismatch() throws {
        var decoder = FrameDecoder()
        var partial = ByteBuffer(bytes: [0x41, 0x4D, 0x51])
        #expect(try decoder.decode(buffer: &partial) == nil)
        var bytes = ByteBuffer(bytes: [0x41, 0x4D, 0x51, 0x50, 0, 0, 9, 1])
        #expect(throws: AMQPWireError.protocolVersionMismatch(major: 0, minor: 9, revision: 1)) {
            try decoder.decode(buffer: &bytes)
        }
    }

    @Test func decodesAnUnknownMethodWithoutFailing() throws {
        var payload = ByteBuffer()
        payload.writeMultipleIntegers(UInt16(90), UInt16(10))  // tx.select
        var bytes = ByteBuffer()
        bytes.writeMultipleIntegers(UInt8(1), UInt16(3), UInt32(payload.readableBytes))
        bytes.writeImmutableBuffer(payload)
        bytes.writeInteger(UInt8(0xCE))
        var decoder = FrameDecoder()
        let frame = try #require(try decoder.decode(buffer: &bytes))
        guard case .method(.unknown(90, 10, _)) = frame.payload else {
            Issue.record("got \(frame)")
            return
        }
    }
}
