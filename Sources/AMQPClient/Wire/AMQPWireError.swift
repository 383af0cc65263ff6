import NIOCore

/// A protocol violation found while decoding bytes from the broker. Internal: surfaced as ``AMQPError/Code-swift.struct/protocolError``.
enum AMQPWireError: Error, Equatable {
    case truncated(String)
    case unknownFieldType(UInt8)
    case unknownFrameType(UInt8, bytes: ByteBuffer)
    case missingFrameEnd(UInt8, bytes: ByteBuffer)
    case frameTooLarge(UInt32)
    /// The broker answered our protocol header with its own: it does not speak 0-9-1.
    case protocolVersionMismatch(major: UInt8, minor: UInt8, revision: UInt8)
    case unexpectedFrame(String)
}
