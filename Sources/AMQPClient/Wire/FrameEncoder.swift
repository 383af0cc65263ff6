import NIOCore

/// Writes outbound frames into a buffer it owns and reuses, like postgres-nio's `PostgresFrontendMessageEncoder`.
///
/// Call the `mutating func`s for one batch of frames, then ``flushBuffer()`` to take the bytes.
struct FrameEncoder {
    private var buffer: ByteBuffer
    /// The negotiated frame-max (whole frame, overhead included); bodies are split to fit.
    var frameMax: UInt32 = Frame.minimumFrameMax

    init(buffer: ByteBuffer) {
        self.buffer = buffer
    }

    mutating func protocolHeader() {
        buffer.writeBytes(amqpProtocolHeader)
    }

    mutating func heartbeat() {
        buffer.writeMultipleIntegers(Frame.Kind.heartbeat.rawValue, UInt16(0), UInt32(0), Frame.end)
    }

    mutating func method(_ method: AMQPMethod, channel: UInt16) {
        frame(.method, channel: channel) { $0.writeMethod(method) }
    }

    mutating func contentHeader(_ header: ContentHeader, channel: UInt16) {
        frame(.header, channel: channel) { $0.writeContentHeader(header) }
    }

    /// Writes body frames, each at most frame-max bytes long. An empty body writes no frame.
    mutating func body(_ body: ByteBuffer, channel: UInt16) {
        let maxPayload = Int(frameMax) - Frame.overhead
        var body = body
        while body.readableBytes > 0 {
            let chunk = body.readSlice(length: min(maxPayload, body.readableBytes))!
            frame(.body, channel: channel) { $0.writeImmutableBuffer(chunk) }
        }
    }

    /// Writes a whole `basic.publish`: the method, the content header and the body frames.
    mutating func publish(_ publish: AMQPMethod.Publish, properties: AMQPProperties, body: ByteBuffer, channel: UInt16) {
        method(.basicPublish(publish), channel: channel)
        contentHeader(ContentHeader(bodySize: UInt64(body.readableBytes), properties: properties), channel: channel)
        self.body(body, channel: channel)
    }

    mutating func frame(_ frame: Frame) {
        switch frame.payload {
        case .method(let m): method(m, channel: frame.channel)
        case .header(let h): contentHeader(h, channel: frame.channel)
        case .body(let b): self.frame(.body, channel: frame.channel) { $0.writeImmutableBuffer(b) }
        case .heartbeat: heartbeat()
        }
    }

    /// Takes the encoded bytes, leaving the buffer's storage for reuse.
    mutating func flushBuffer() -> ByteBuffer {
        defer { buffer.clear() }
        return buffer
    }

    private mutating func frame(_ kind: Frame.Kind, channel: UInt16, _ writePayload: (inout ByteBuffer) -> Void) {
        buffer.writeMultipleIntegers(kind.rawValue, channel, UInt32(0))
        let payloadStart = buffer.writerIndex
        writePayload(&buffer)
        buffer.setInteger(UInt32(buffer.writerIndex - payloadStart), at: payloadStart - 4)
        buffer.writeInteger(Frame.end)
    }
}
