import Logging
import NIOCore

/// What the async API asks of the handler; written into the pipeline with `channel.write(_:)`.
enum HandlerTask: Sendable {
    /// Open a channel; succeeds with its number once `channel.open-ok` arrives.
    case openChannel(EventLoopPromise<UInt16>)
    /// Send a synchronous method and complete the promise with the broker's reply.
    case rpc(channel: UInt16, AMQPMethod, EventLoopPromise<AMQPMethod>)
    /// Send a method that has no reply (ack, reject, nack).
    case send(channel: UInt16, AMQPMethod, EventLoopPromise<Void>?)
    /// Publish; in confirm mode the promise completes on the broker's `basic.ack`.
    case publish(channel: UInt16, AMQPMethod.Publish, AMQPProperties, ByteBuffer, EventLoopPromise<Void>?)
    /// `basic.consume`, routing deliveries to the sink; succeeds with the consumer tag.
    case consume(channel: UInt16, AMQPMethod.Consume, ConsumerSink, EventLoopPromise<String>)
    /// `confirm.select`: from now on publishes on this channel are confirmed.
    case confirmSelect(channel: UInt16, EventLoopPromise<Void>)
    case closeChannel(UInt16, EventLoopPromise<Void>)
    case closeConnection(EventLoopPromise<Void>?)
}

/// Receives a consumer's deliveries, on the event loop.
struct ConsumerSink: Sendable {
    var deliver: @Sendable (ChannelStateMachine.Content) -> Void
    var finish: @Sendable ((any Error)?) -> Void
}

/// The AMQP protocol on a NIO channel: decodes frames, feeds the ``ConnectionStateMachine`` and runs its actions.
final class AMQPChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = HandlerTask
    typealias OutboundOut = ByteBuffer

    private struct ChannelContext {
        var pending: CircularBuffer<EventLoopPromise<AMQPMethod>> = []
        var consumers: [String: ConsumerSink] = [:]
        var pendingConsumers: CircularBuffer<ConsumerSink> = []
        var confirmMode = false
        var nextPublishSequence: UInt64 = 1
        var unconfirmed: [(UInt64, EventLoopPromise<Void>?)] = []
        var closePromise: EventLoopPromise<Void>?
        var openPromise: EventLoopPromise<UInt16>?
    }

    // MARK: Member variables
    private var state: ConnectionStateMachine
    private var decoder: NIOSingleStepByteToMessageProcessor<FrameDecoder>
    private var encoder: FrameEncoder!
    private var channels: [UInt16: ChannelContext] = [:]
    private let connectPromise: EventLoopPromise<AMQPNegotiatedParameters>
    private var closePromises: [EventLoopPromise<Void>] = []
    private var heartbeatTask: Scheduled<Void>?
    private var closeTimeoutTask: Scheduled<Void>?
    private var context: ChannelHandlerContext?
    private var finalError: AMQPError?
    private let logger: Logger

    // MARK: Initialization
    init(configuration: ConnectionStateMachine.Configuration, connectPromise: EventLoopPromise<AMQPNegotiatedParameters>, logger: Logger) {
        self.state = ConnectionStateMachine(configuration: configuration)
        // The negotiated frame-max never exceeds the client's (when set), so that bounds inbound frames.
        let limit = configuration.frameMax == 0 ? 1 << 20 : max(configuration.frameMax, Frame.minimumFrameMax)
        self.decoder = NIOSingleStepByteToMessageProcessor(FrameDecoder(maximumFrameSize: limit), maximumBufferSize: 1 << 26)
        self.connectPromise = connectPromise
        self.logger = logger
    }

    // MARK: Channel handler
    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.encoder = FrameEncoder(buffer: context.channel.allocator.buffer(capacity: 1024))
        if context.channel.isActive { connected(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        connected(context: context)
        context.fireChannelActive()
    }

    private func connected(context: ChannelHandlerContext) {
        guard case .initialized = state.state else { return }
        run(state.connected(now: .now()), context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        run(state.closed(), context: context)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("AMQP connection error", metadata: ["error": "\(error)"])
        run(state.errorHappened(AMQPError.wire(error)), context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        do {
            try decoder.process(buffer: buffer) { frame in
                if logger.logLevel <= .trace {
                    logger.trace("AMQP frame received", metadata: ["amqp.channel": "\(frame.channel)", "amqp.frame": "\(frame.payload)"])
                }
                run(state.frameReceived(frame, now: .now()), context: context)
            }
        } catch {
            run(state.errorHappened(AMQPError.wire(error)), context: context)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let task = unwrapOutboundIn(data)
        promise?.succeed()
        if let finalError {
            task.fail(with: finalError)
            return
        }
        switch task {
        case .openChannel(let promise):
            guard let id = state.openChannel() else {
                promise.fail(AMQPError(state.isOpen ? .channelLimitReached : .connectionClosed))
                return
            }
            var channelContext = ChannelContext()
            channelContext.openPromise = promise
            channels[id] = channelContext
            sendMethod(.channelOpen, channel: id, context: context)
        case .rpc(let channel, let method, let promise):
            guard channels[channel] != nil else { return promise.fail(AMQPError(.channelClosed)) }
            channels[channel]!.pending.append(promise)
            sendMethod(method, channel: channel, context: context)
        case .send(let channel, let method, let promise):
            guard channels[channel] != nil else {
                promise?.fail(AMQPError(.channelClosed))
                return
            }
            encoder.method(method, channel: channel)
            flush(context: context, promise: promise)
        case .publish(let channel, let publish, let properties, let body, let promise):
            guard channels[channel] != nil else {
                promise?.fail(AMQPError(.channelClosed))
                return
            }
            encoder.publish(publish, properties: properties, body: body, channel: channel)
            if channels[channel]!.confirmMode {
                let sequence = channels[channel]!.nextPublishSequence
                channels[channel]!.nextPublishSequence += 1
                channels[channel]!.unconfirmed.append((sequence, promise))
                flush(context: context, promise: nil)
            } else {
                flush(context: context, promise: promise)
            }
        case .consume(let channel, let consume, let sink, let promise):
            guard channels[channel] != nil else { return promise.fail(AMQPError(.channelClosed)) }
            channels[channel]!.pendingConsumers.append(sink)
            let rpc = context.eventLoop.makePromise(of: AMQPMethod.self)
            channels[channel]!.pending.append(rpc)
            sendMethod(.basicConsume(consume), channel: channel, context: context)
            promise.completeWith(
                rpc.futureResult.flatMapThrowing { reply in
                    guard case .basicConsumeOk(let tag) = reply else { throw AMQPError(.protocolError) }
                    return tag
                }
            )
        case .confirmSelect(let channel, let promise):
            guard channels[channel] != nil else { return promise.fail(AMQPError(.channelClosed)) }
            channels[channel]!.confirmMode = true
            let rpc = context.eventLoop.makePromise(of: AMQPMethod.self)
            channels[channel]!.pending.append(rpc)
            sendMethod(.confirmSelect(noWait: false), channel: channel, context: context)
            promise.completeWith(rpc.futureResult.map { _ in })
        case .closeChannel(let channel, let promise):
            guard channels[channel] != nil, channels[channel]!.closePromise == nil else {
                promise.succeed()
                return
            }
            channels[channel]!.closePromise = promise
            state.closeChannel(channel)
            sendMethod(.channelClose(CloseReason(replyCode: 200, replyText: "Goodbye")), channel: channel, context: context)
        case .closeConnection(let promise):
            if let promise { closePromises.append(promise) }
            run(state.close(), context: context)
        }
    }

    // MARK: Actions
    private func run(_ action: ConnectionStateMachine.Action, context: ChannelHandlerContext) {
        switch action {
        case .wait:
            break
        case .sendProtocolHeader:
            encoder.protocolHeader()
            flush(context: context, promise: nil)
        case .sendStartOk(let startOk):
            sendMethod(.connectionStartOk(startOk), channel: 0, context: context)
        case .sendTuneOkAndOpen(let negotiated, let virtualHost):
            encoder.frameMax = negotiated.frameMax
            encoder.method(.connectionTuneOk(.init(channelMax: negotiated.channelMax, frameMax: negotiated.frameMax, heartbeat: negotiated.heartbeat)), channel: 0)
            sendMethod(.connectionOpen(virtualHost: virtualHost), channel: 0, context: context)
            if negotiated.heartbeat > 0 {
                scheduleHeartbeat(every: .milliseconds(Int64(negotiated.heartbeat) * 500), context: context)
            }
        case .succeedConnect(let negotiated):
            logger.debug("AMQP connection open", metadata: ["amqp.frame_max": "\(negotiated.frameMax)", "amqp.heartbeat": "\(negotiated.heartbeat)"])
            connectPromise.succeed(negotiated)
        case .sendHeartbeat:
            encoder.heartbeat()
            flush(context: context, promise: nil)
        case .forwardMethod(let channel, let method):
            methodReceived(method, channel: channel, context: context)
        case .deliver(let channel, let content):
            guard case .basicDeliver(let deliver) = content.method else { return }  // basic.return: not routed (mandatory unused)
            channels[channel]?.consumers[deliver.consumerTag]?.deliver(content)
        case .sendChannelCloseOkAndFail(let channel, let error):
            logger.debug("AMQP channel closed by broker", metadata: ["amqp.channel": "\(channel)", "amqp.reply_code": "\(error.replyCode ?? 0)"])
            sendMethod(.channelCloseOk, channel: channel, context: context)
            failChannel(channel, error: error)
        case .sendClose(let reason, let error):
            finalError = error
            sendMethod(.connectionClose(reason), channel: 0, context: context)
            // Do not wait forever for close-ok.
            closeTimeoutTask = context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(5)) { [self] in
                if self.context != nil { context.close(promise: nil) }
            }
        case .sendCloseOkAndCloseSocket(let error):
            logger.debug("AMQP connection closed by broker", metadata: ["amqp.reply_code": "\(error.replyCode ?? 0)"])
            sendMethod(.connectionCloseOk, channel: 0, context: context)
            failAll(error)
            context.close(promise: nil)
        case .closeSocket(let error):
            failAll(error)
            context.close(promise: nil)
        }
    }

    private func methodReceived(_ method: AMQPMethod, channel: UInt16, context: ChannelHandlerContext) {
        if channel == 0 {
            logger.info("AMQP connection flow", metadata: ["amqp.method": "\(method)"])
            return
        }
        switch method {
        case .channelOpenOk:
            channels[channel]?.openPromise?.succeed(channel)
            channels[channel]?.openPromise = nil
        case .channelCloseOk:
            failChannel(channel, error: AMQPError(.channelClosed))  // also succeeds the close promise
        case .basicAck(let tag, let multiple), .basicNack(let tag, let multiple, _):
            var nacked = false
            if case .basicNack = method { nacked = true }
            guard var ctx = channels[channel] else { return }
            var remaining: [(UInt64, EventLoopPromise<Void>?)] = []
            for (sequence, promise) in ctx.unconfirmed {
                if sequence == tag || (multiple && sequence < tag) {
                    if nacked { promise?.fail(AMQPError(.publishNacked)) } else { promise?.succeed() }
                } else {
                    remaining.append((sequence, promise))
                }
            }
            ctx.unconfirmed = remaining
            channels[channel] = ctx
        case .basicCancel(let tag, _):
            // The broker cancelled a consumer (consumer_cancel_notify).
            channels[channel]?.consumers.removeValue(forKey: tag)?.finish(AMQPError(.consumerCancelledByServer))
        case .channelFlow(let active):
            sendMethod(.channelFlowOk(active: active), channel: channel, context: context)
        default:
            guard var ctx = channels[channel], let promise = ctx.pending.popFirst() else {
                logger.debug("AMQP unexpected method", metadata: ["amqp.channel": "\(channel)", "amqp.method": "\(method.id)"])
                return
            }
            switch method {
            case .basicConsumeOk(let tag):
                if let sink = ctx.pendingConsumers.popFirst() { ctx.consumers[tag] = sink }
            case .basicCancelOk(let tag):
                ctx.consumers.removeValue(forKey: tag)?.finish(nil)
            default:
                break
            }
            channels[channel] = ctx
            promise.succeed(method)
        }
    }

    // MARK: Helpers
    private func sendMethod(_ method: AMQPMethod, channel: UInt16, context: ChannelHandlerContext) {
        encoder.method(method, channel: channel)
        if logger.logLevel <= .trace {
            logger.trace("AMQP frame sent", metadata: ["amqp.channel": "\(channel)", "amqp.method": "\(method)"])
        }
        flush(context: context, promise: nil)
    }

    private func flush(context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        state.frameWritten()
        context.writeAndFlush(wrapOutboundOut(encoder.flushBuffer()), promise: promise)
    }

    private func scheduleHeartbeat(every interval: TimeAmount, context: ChannelHandlerContext) {
        heartbeatTask = context.eventLoop.assumeIsolated().scheduleTask(in: interval) { [self] in
            guard self.context != nil else { return }
            let action = state.heartbeatTick(now: .now())
            if case .closeSocket = action {
                logger.warning("AMQP missed heartbeat: closing the connection")
            } else {
                scheduleHeartbeat(every: interval, context: context)
            }
            run(action, context: context)
        }
    }

    private func failChannel(_ channel: UInt16, error: AMQPError) {
        guard let ctx = channels.removeValue(forKey: channel) else { return }
        state.forgetChannel(channel)
        ctx.openPromise?.fail(error)
        ctx.closePromise?.succeed()
        for promise in ctx.pending { promise.fail(error) }
        for (_, promise) in ctx.unconfirmed { promise?.fail(error) }
        for sink in ctx.consumers.values { sink.finish(error) }
        for sink in ctx.pendingConsumers { sink.finish(error) }
    }

    private func failAll(_ error: AMQPError) {
        if finalError == nil || finalError?.code == .connectionClosed { finalError = error }
        heartbeatTask?.cancel()
        heartbeatTask = nil
        closeTimeoutTask?.cancel()
        closeTimeoutTask = nil
        connectPromise.fail(error)
        for channel in Array(channels.keys) { failChannel(channel, error: error) }
        for promise in closePromises { promise.succeed() }
        closePromises.removeAll()
    }
}

extension HandlerTask {
    /// Fails every promise the task carries (the connection is gone).
    func fail(with error: AMQPError) {
        switch self {
        case .openChannel(let p): p.fail(error)
        case .rpc(_, _, let p): p.fail(error)
        case .send(_, _, let p): p?.fail(error)
        case .publish(_, _, _, _, let p): p?.fail(error)
        case .consume(_, _, let sink, let p):
            sink.finish(error)
            p.fail(error)
        case .confirmSelect(_, let p): p.fail(error)
        case .closeChannel(_, let p): p.succeed()
        case .closeConnection(let p): p?.succeed()
        }
    }
}
