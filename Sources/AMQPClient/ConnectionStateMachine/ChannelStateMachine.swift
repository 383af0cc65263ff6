import NIOCore

/// One channel's inbound protocol: assembling content frames, and the broker's `channel.close`.
struct ChannelStateMachine {
    /// A `basic.deliver` or `basic.return` with its header and whole body.
    struct Content: Sendable, Hashable {
        var method: AMQPMethod
        var properties: AMQPProperties
        var body: ByteBuffer
    }

    enum Action {
        case wait
        case forward(AMQPMethod)
        case deliver(Content)
        case sendCloseOkAndFail(AMQPError)
        case protocolViolation(String)
    }

    private enum State {
        case open
        case awaitingHeader(AMQPMethod)
        case awaitingBody(AMQPMethod, ContentHeader, ByteBuffer?)
        /// We sent `channel.close`: drop everything until `close-ok`.
        case closing
        case closed
    }

    private var state: State = .open

    var isClosed: Bool {
        if case .closed = state { return true }
        return false
    }

    mutating func methodReceived(_ method: AMQPMethod) -> Action {
        switch state {
        case .open:
            if case .channelClose(let reason) = method {
                state = .closed
                return .sendCloseOkAndFail(AMQPError(.channelClosedByServer, reason: reason))
            }
            if method.hasContent {
                state = .awaitingHeader(method)
                return .wait
            }
            return .forward(method)
        case .closing:
            switch method {
            case .channelCloseOk:
                state = .closed
                return .forward(method)
            case .channelClose:
                // Both sides closed at once: treat the broker's close as our close-ok.
                state = .closed
                return .forward(.channelCloseOk)
            default:
                return .wait
            }
        case .awaitingHeader, .awaitingBody:
            return .protocolViolation("method while content was expected")
        case .closed:
            return .protocolViolation("method on a closed channel")
        }
    }

    mutating func headerReceived(_ header: ContentHeader) -> Action {
        switch state {
        case .awaitingHeader(let method):
            if header.bodySize == 0 {
                state = .open
                return .deliver(Content(method: method, properties: header.properties, body: ByteBuffer()))
            }
            state = .awaitingBody(method, header, nil)
            return .wait
        case .closing:
            return .wait
        default:
            return .protocolViolation("unexpected content header")
        }
    }

    mutating func bodyReceived(_ chunk: ByteBuffer) -> Action {
        switch state {
        case .awaitingBody(let method, let header, let partial):
            var body: ByteBuffer
            if var partial {
                state = .open  // drop the reference before appending, to avoid a copy on write
                partial.writeImmutableBuffer(chunk)
                body = partial
            } else {
                body = chunk
            }
            if body.readableBytes >= Int(header.bodySize) {
                state = .open
                guard body.readableBytes == Int(header.bodySize) else { return .protocolViolation("body longer than announced") }
                return .deliver(Content(method: method, properties: header.properties, body: body))
            }
            if partial == nil {
                // First chunk of several: copy into a buffer sized for the whole body.
                var whole = ByteBuffer()
                whole.reserveCapacity(Int(header.bodySize))
                whole.writeImmutableBuffer(body)
                body = whole
            }
            state = .awaitingBody(method, header, body)
            return .wait
        case .closing:
            return .wait
        default:
            return .protocolViolation("unexpected content body")
        }
    }

    mutating func closeSent() {
        state = .closing
    }
}
