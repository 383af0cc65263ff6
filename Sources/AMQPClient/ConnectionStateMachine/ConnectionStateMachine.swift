import NIOCore

/// The tuned limits of an open connection.
public struct AMQPNegotiatedParameters: Sendable, Hashable {
    /// The highest channel number allowed.
    public var channelMax: UInt16
    /// The largest frame, overhead included.
    public var frameMax: UInt32
    /// The heartbeat interval in seconds; 0 means no heartbeats.
    public var heartbeat: UInt16
}

/// The connection-level protocol as a pure state machine: each `…Received` returns the ``Action`` the handler runs.
///
/// It negotiates (start, tune, open), tracks heartbeats, assembles content (method, header, body frames) per channel
/// through ``ChannelStateMachine``, and turns closes from either side into actions. It does no I/O and holds no promises.
struct ConnectionStateMachine {
    enum State {
        case initialized
        case protocolHeaderSent
        case startOkSent
        case openSent(AMQPNegotiatedParameters)
        case open(AMQPNegotiatedParameters)
        /// We sent `connection.close` and await `close-ok`.
        case closing
        case closed
    }

    enum Action {
        case sendProtocolHeader
        case sendStartOk(AMQPMethod.StartOk)
        case sendTuneOkAndOpen(AMQPNegotiatedParameters, virtualHost: String)
        case succeedConnect(AMQPNegotiatedParameters)
        case sendHeartbeat
        /// A method for a channel, with no content: a reply to a request, or an asynchronous method.
        case forwardMethod(channel: UInt16, AMQPMethod)
        /// A complete `basic.deliver` or `basic.return` with its content.
        case deliver(channel: UInt16, ChannelStateMachine.Content)
        /// The broker closed a channel: answer `close-ok` and fail its work with the error.
        case sendChannelCloseOkAndFail(channel: UInt16, AMQPError)
        /// Send `connection.close` with this reason (if not nil), then wait for `close-ok`.
        case sendClose(CloseReason, failWith: AMQPError)
        /// Answer the broker's `connection.close` and close the socket.
        case sendCloseOkAndCloseSocket(AMQPError)
        /// Close the socket now and fail everything.
        case closeSocket(AMQPError)
        case wait
    }

    struct Configuration: Equatable {
        var username: String
        var password: String
        var virtualHost: String
        var frameMax: UInt32
        var channelMax: UInt16
        var heartbeat: UInt16
        var clientProperties: AMQPFieldTable
    }

    // MARK: Member variables
    private(set) var state: State = .initialized
    private let configuration: Configuration
    private(set) var channels: [UInt16: ChannelStateMachine] = [:]
    private var lastRead: NIODeadline = .now()
    private var wroteSinceTick = false

    // MARK: Initialization
    init(configuration: Configuration) {
        self.configuration = configuration
    }

    // MARK: Negotiation
    mutating func connected(now: NIODeadline) -> Action {
        guard case .initialized = state else { preconditionFailure("connected() twice: \(state)") }
        state = .protocolHeaderSent
        lastRead = now
        return .sendProtocolHeader
    }

    /// Every inbound frame resets the missed-heartbeat clock.
    mutating func frameReceived(_ frame: Frame, now: NIODeadline) -> Action {
        lastRead = now
        switch frame.payload {
        case .heartbeat:
            return .wait
        case .method(let method) where frame.channel == 0:
            return connectionMethodReceived(method)
        case .method(let method):
            return channelMethodReceived(method, channel: frame.channel)
        case .header(let header):
            return modifyChannel(frame.channel) { $0.headerReceived(header) }
        case .body(let body):
            return modifyChannel(frame.channel) { $0.bodyReceived(body) }
        }
    }

    private mutating func connectionMethodReceived(_ method: AMQPMethod) -> Action {
        switch (state, method) {
        case (.protocolHeaderSent, .connectionStart(let start)):
            guard start.mechanisms.split(separator: " ").contains("PLAIN") else {
                state = .closed
                return .closeSocket(AMQPError(.authenticationMechanismUnavailable))
            }
            state = .startOkSent
            let response = "\u{0}\(configuration.username)\u{0}\(configuration.password)"
            return .sendStartOk(
                .init(clientProperties: configuration.clientProperties, mechanism: "PLAIN", response: response, locale: "en_US")
            )
        case (.startOkSent, .connectionTune(let tune)):
            let negotiated = AMQPNegotiatedParameters(
                channelMax: Self.negotiate(configuration.channelMax, tune.channelMax, unlimited: .max),
                frameMax: max(Frame.minimumFrameMax, Self.negotiate(configuration.frameMax, tune.frameMax, unlimited: 131_072)),
                heartbeat: (configuration.heartbeat == 0 || tune.heartbeat == 0)
                    ? configuration.heartbeat : min(configuration.heartbeat, tune.heartbeat)
            )
            state = .openSent(negotiated)
            return .sendTuneOkAndOpen(negotiated, virtualHost: configuration.virtualHost)
        case (.openSent(let negotiated), .connectionOpenOk):
            state = .open(negotiated)
            return .succeedConnect(negotiated)
        case (.closing, .connectionCloseOk):
            state = .closed
            return .closeSocket(AMQPError(.connectionClosed))
        case (.closed, _):
            return .wait
        case (_, .connectionClose(let reason)):
            state = .closed
            return .sendCloseOkAndCloseSocket(AMQPError(.connectionClosedByServer, reason: reason))
        case (.closing, _):
            return .wait  // everything but close-ok is ignored while closing (spec 2.2.4)
        case (.open, .connectionBlocked), (.open, .connectionUnblocked):
            return .forwardMethod(channel: 0, method)
        default:
            return protocolViolation("unexpected \(method.id) on channel 0")
        }
    }

    private mutating func channelMethodReceived(_ method: AMQPMethod, channel: UInt16) -> Action {
        guard case .open = state else {
            if case .closing = state { return .wait }
            return protocolViolation("channel method before the connection is open")
        }
        return modifyChannel(channel) { $0.methodReceived(method) }
    }

    private mutating func modifyChannel(_ id: UInt16, _ body: (inout ChannelStateMachine) -> ChannelStateMachine.Action) -> Action {
        guard case .open = state else {
            if case .closing = state { return .wait }
            return protocolViolation("content before the connection is open")
        }
        guard var machine = channels.removeValue(forKey: id) else {
            return protocolViolation("frame on unknown channel \(id)")
        }
        let action = body(&machine)
        if !machine.isClosed { channels[id] = machine }
        switch action {
        case .wait: return .wait
        case .forward(let method): return .forwardMethod(channel: id, method)
        case .deliver(let content): return .deliver(channel: id, content)
        case .sendCloseOkAndFail(let error): return .sendChannelCloseOkAndFail(channel: id, error)
        case .protocolViolation(let text): return protocolViolation(text)
        }
    }

    // MARK: Channels
    /// Reserves the lowest free channel number, or nil when channel-max is reached.
    mutating func openChannel() -> UInt16? {
        guard case .open(let negotiated) = state else { return nil }
        var id: UInt16 = 1
        while channels[id] != nil {
            guard id < negotiated.channelMax else { return nil }
            id += 1
        }
        channels[id] = ChannelStateMachine()
        return id
    }

    /// The client sends `channel.close`.
    mutating func closeChannel(_ id: UInt16) {
        channels[id]?.closeSent()
    }

    /// Forgets a channel whose `open` failed.
    mutating func forgetChannel(_ id: UInt16) {
        channels[id] = nil
    }

    var isOpen: Bool {
        if case .open = state { return true }
        return false
    }

    var negotiated: AMQPNegotiatedParameters? {
        switch state {
        case .open(let n), .openSent(let n): n
        default: nil
        }
    }

    // MARK: Heartbeats
    mutating func frameWritten() {
        wroteSinceTick = true
    }

    /// Called every half heartbeat interval.
    mutating func heartbeatTick(now: NIODeadline) -> Action {
        guard case .open(let negotiated) = state, negotiated.heartbeat > 0 else { return .wait }
        if now - lastRead > .seconds(2 * Int64(negotiated.heartbeat)) {
            state = .closed
            return .closeSocket(AMQPError(.missedHeartbeat))
        }
        defer { wroteSinceTick = false }
        return wroteSinceTick ? .wait : .sendHeartbeat
    }

    // MARK: Closing
    mutating func close() -> Action {
        switch state {
        case .open:
            state = .closing
            return .sendClose(CloseReason(replyCode: AMQPError.ReplyCode.success, replyText: "Goodbye"), failWith: AMQPError(.connectionClosed))
        case .closing, .closed:
            return .wait
        case .initialized, .protocolHeaderSent, .startOkSent, .openSent:
            state = .closed
            return .closeSocket(AMQPError(.connectionClosed))
        }
    }

    /// The socket went away.
    mutating func closed() -> Action {
        switch state {
        case .closed: return .wait
        default:
            state = .closed
            return .closeSocket(AMQPError(.connectionClosed))
        }
    }

    /// A decoding error.
    mutating func errorHappened(_ error: AMQPError) -> Action {
        switch state {
        case .closed: return .wait
        case .open:
            state = .closing
            return .sendClose(CloseReason(replyCode: AMQPError.ReplyCode.frameError, replyText: "frame error"), failWith: error)
        default:
            state = .closed
            return .closeSocket(error)
        }
    }

    private mutating func protocolViolation(_ text: String) -> Action {
        let error = AMQPError(.protocolError, underlying: AMQPWireError.unexpectedFrame(text))
        if case .open = state {
            state = .closing
            return .sendClose(CloseReason(replyCode: AMQPError.ReplyCode.unexpectedFrame, replyText: text), failWith: error)
        }
        state = .closed
        return .closeSocket(error)
    }

    static func negotiate<I: FixedWidthInteger>(_ client: I, _ server: I, unlimited: I) -> I {
        switch (client, server) {
        case (0, 0): unlimited
        case (0, let s): s
        case (let c, 0): c
        case (let c, let s): Swift.min(c, s)
        }
    }
}
