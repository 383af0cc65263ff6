import NIOCore

/// One AMQP frame: a payload on a channel (0 is the connection itself).
struct Frame: Sendable, Hashable {
    enum Payload: Sendable, Hashable {
        case method(AMQPMethod)
        case header(ContentHeader)
        case body(ByteBuffer)
        case heartbeat
    }

    /// The frame type octet.
    enum Kind: UInt8 {
        case method = 1
        case header = 2
        case body = 3
        case heartbeat = 8
    }

    static let end: UInt8 = 0xCE
    /// type (1) + channel (2) + size (4) + frame-end (1).
    static let overhead = 8
    /// The smallest frame-max a peer may set (spec 4.2.3).
    static let minimumFrameMax: UInt32 = 4096

    var channel: UInt16
    var payload: Payload

    static func method(_ channel: UInt16, _ method: AMQPMethod) -> Frame { Frame(channel: channel, payload: .method(method)) }
    static var heartbeat: Frame { Frame(channel: 0, payload: .heartbeat) }
}

/// The protocol header this client sends first: `AMQP` 0 0 9 1.
let amqpProtocolHeader: [UInt8] = [0x41, 0x4D, 0x51, 0x50, 0, 0, 9, 1]
