/// An error from the AMQP client.
///
/// Switch on ``code``; new codes may be added without breaking callers. When the broker closed the connection or a
/// channel, ``replyCode`` and ``replyText`` carry its reason (e.g. 406 PRECONDITION_FAILED, 404 NOT_FOUND).
/// ``description`` is safe to log at info level; ``debugDescription`` adds the broker's text and the underlying error.
public struct AMQPError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        enum Base: String, Sendable, Hashable {
            case connectionClosedByServer, channelClosedByServer, missedHeartbeat, protocolVersionMismatch,
                protocolError, connectionClosed, channelClosed, publishNacked, consumerCancelledByServer,
                authenticationMechanismUnavailable, connectTimeout, channelLimitReached
        }
        let base: Base

        /// The broker sent `connection.close`: see ``AMQPError/replyCode``.
        public static let connectionClosedByServer = Code(base: .connectionClosedByServer)
        /// The broker sent `channel.close`: see ``AMQPError/replyCode``.
        public static let channelClosedByServer = Code(base: .channelClosedByServer)
        /// Nothing was heard from the broker for two heartbeat intervals.
        public static let missedHeartbeat = Code(base: .missedHeartbeat)
        /// The broker answered with another protocol header: it does not speak AMQP 0-9-1.
        public static let protocolVersionMismatch = Code(base: .protocolVersionMismatch)
        /// Malformed or unexpected bytes from the broker.
        public static let protocolError = Code(base: .protocolError)
        /// The connection is closed (by us, or the socket went away).
        public static let connectionClosed = Code(base: .connectionClosed)
        /// The channel is closed, so this operation (e.g. an ack of a delivery from it) cannot run.
        public static let channelClosed = Code(base: .channelClosed)
        /// In confirm mode, the broker answered a publish with `basic.nack`.
        public static let publishNacked = Code(base: .publishNacked)
        /// The broker cancelled a consumer (e.g. its queue was deleted).
        public static let consumerCancelledByServer = Code(base: .consumerCancelledByServer)
        /// The broker offers no PLAIN authentication.
        public static let authenticationMechanismUnavailable = Code(base: .authenticationMechanismUnavailable)
        /// The connection was not open before ``AMQPConnection/Configuration/connectTimeout``.
        public static let connectTimeout = Code(base: .connectTimeout)
        /// All channel numbers up to the negotiated channel-max are in use.
        public static let channelLimitReached = Code(base: .channelLimitReached)

        public var description: String { base.rawValue }
    }

    /// AMQP reply codes (spec section 1.9).
    public enum ReplyCode {
        public static let success: UInt16 = 200
        public static let contentTooLarge: UInt16 = 311
        public static let noConsumers: UInt16 = 313
        public static let connectionForced: UInt16 = 320
        public static let invalidPath: UInt16 = 402
        public static let accessRefused: UInt16 = 403
        public static let notFound: UInt16 = 404
        public static let resourceLocked: UInt16 = 405
        public static let preconditionFailed: UInt16 = 406
        public static let frameError: UInt16 = 501
        public static let syntaxError: UInt16 = 502
        public static let commandInvalid: UInt16 = 503
        public static let channelError: UInt16 = 504
        public static let unexpectedFrame: UInt16 = 505
        public static let resourceError: UInt16 = 506
        public static let notAllowed: UInt16 = 530
        public static let notImplemented: UInt16 = 540
        public static let internalError: UInt16 = 541
    }

    // MARK: Member variables
    public var code: Code
    /// The broker's reply code, for ``Code-swift.struct/connectionClosedByServer`` and ``Code-swift.struct/channelClosedByServer``.
    public var replyCode: UInt16?
    /// The broker's reply text (may name queues; kept out of ``description``).
    public var replyText: String?
    /// The class and method that caused a broker-side close, when it said.
    public var classID: UInt16?
    public var methodID: UInt16?
    public var underlying: (any Error)?
    public var file: String
    public var line: Int

    // MARK: Initialization
    init(_ code: Code, underlying: (any Error)? = nil, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.underlying = underlying
        self.file = file
        self.line = line
    }

    init(_ code: Code, reason: CloseReason, file: String = #fileID, line: Int = #line) {
        self.init(code, file: file, line: line)
        self.replyCode = reason.replyCode
        self.replyText = reason.replyText
        self.classID = reason.classID
        self.methodID = reason.methodID
    }

    static func wire(_ error: any Error, file: String = #fileID, line: Int = #line) -> AMQPError {
        if let error = error as? AMQPError { return error }
        if case .protocolVersionMismatch = error as? AMQPWireError {
            return AMQPError(.protocolVersionMismatch, underlying: error, file: file, line: line)
        }
        return AMQPError(.protocolError, underlying: error, file: file, line: line)
    }

    // MARK: Methods
    public var description: String {
        if let replyCode { return "AMQPError(code: \(code), replyCode: \(replyCode))" }
        return "AMQPError(code: \(code))"
    }

    public var debugDescription: String {
        var parts = ["code: \(code)"]
        if let replyCode { parts.append("replyCode: \(replyCode)") }
        if let replyText { parts.append("replyText: \(replyText)") }
        if let classID, let methodID, classID != 0 { parts.append("method: \(classID).\(methodID)") }
        if let underlying { parts.append("underlying: \(String(reflecting: underlying))") }
        parts.append("at: \(file):\(line)")
        return "AMQPError(\(parts.joined(separator: ", ")))"
    }
}
