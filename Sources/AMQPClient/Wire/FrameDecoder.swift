import NIOCore

/// Splits the inbound byte stream into ``Frame``s.
///
/// Returns `nil` (leaving `readerIndex` untouched) while a frame is incomplete. The very first bytes get a special
/// case: a broker that does not speak 0-9-1 answers our header with its own (`AMQP` 0 0 9 1 or another version) and
/// closes, which surfaces as ``AMQPWireError/protocolVersionMismatch(major:minor:revision:)``.
struct FrameDecoder: NIOSingleStepByteToMessageDecoder {
    typealias InboundOut = Frame

    /// The largest frame accepted; raised after tune. Until then, the spec's minimum is not enforced (brokers may
    /// send a larger `connection.start`), so the limit starts generous.
    var maximumFrameSize: UInt32 = 1 << 20
    private var firstFrame = true

    init(maximumFrameSize: UInt32 = 1 << 20) {
        self.maximumFrameSize = maximumFrameSize
    }

    mutating func decode(buffer: inout ByteBuffer) throws -> Frame? {
        if firstFrame, buffer.readableBytes >= 1, buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) == UInt8(ascii: "A") {
            guard buffer.readableBytes >= 8 else { return nil }
            let bytes = buffer.readBytes(length: 8)!
            throw AMQPWireError.protocolVersionMismatch(major: bytes[5], minor: bytes[6], revision: bytes[7])
        }
        let start = buffer.readerIndex
        guard let (type, channel, size) = buffer.getMultipleIntegers(at: start, as: (UInt8, UInt16, UInt32).self) else {
            return nil
        }
        guard Frame.Kind(rawValue: type) != nil else {
            throw AMQPWireError.unknownFrameType(type, bytes: buffer.getSlice(at: start, length: min(buffer.readableBytes, 64))!)
        }
        guard size <= maximumFrameSize else { throw AMQPWireError.frameTooLarge(size) }
        guard buffer.readableBytes >= Int(size) + Frame.overhead else { return nil }
        let endIndex = start + 7 + Int(size)
        let end = buffer.getInteger(at: endIndex, as: UInt8.self)!
        guard end == Frame.end else {
            throw AMQPWireError.missingFrameEnd(end, bytes: buffer.getSlice(at: start, length: min(Int(size) + 8, 64))!)
        }
        firstFrame = false
        buffer.moveReaderIndex(forwardBy: 7)
        var payload = buffer.readSlice(length: Int(size))!
        buffer.moveReaderIndex(forwardBy: 1)
        switch Frame.Kind(rawValue: type)! {
        case .method:
            let method = try AMQPMethod.decode(from: &payload)
            return Frame(channel: channel, payload: .method(method))
        case .header:
            return Frame(channel: channel, payload: .header(try payload.readContentHeader()))
        case .body:
            return Frame(channel: channel, payload: .body(payload))
        case .heartbeat:
            return Frame(channel: channel, payload: .heartbeat)
        }
    }

    mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> Frame? {
        try decode(buffer: &buffer)
    }
}
