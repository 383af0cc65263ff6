public import NIOCore
import NIOConcurrencyHelpers
import NIOPosix

/// A TCP proxy on 127.0.0.1 in front of one server (an archive's DICOM port), to slow it down or cut it off on
/// purpose. **For lab tests only**: it trusts its peers, buffers without limit and keeps no statistics but counts.
///
/// Each connection it accepts is forwarded to `targetHost:targetPort`. What the server sends back (the archive→client
/// direction: association answers, C-FIND and C-MOVE responses) waits ``delay`` before each chunk is forwarded, and
/// ``firstByteDelay`` more before a connection's first; reads pause meanwhile, so a slow proxy slows the server too
/// once the kernel's buffers are full. The client→server direction is forwarded at once. Both settings, ``cut()`` and
/// ``restore()`` may be used from any thread while it runs. In front of an archive it carries orthanc-raw's own
/// associations (C-ECHO, C-FIND, a C-MOVE's request and responses), not the C-STOREs that a C-MOVE makes the archive
/// open back to orthanc-raw: a delay holds a move's responses, not its instances.
///
/// It runs on an event loop group it is given (by default `MultiThreadedEventLoopGroup.singleton`) and starts no
/// thread of its own; ``stop()`` closes its listener and every connection, and leaves the group running.
public final class DelayProxy: Sendable {
    private struct State: Sendable {
        var delay: Duration = .zero
        var firstByteDelay: Duration = .zero
        var isCut = false
        var port = 0
        var accepted = 0
        var refused = 0
        var chunks = 0
        var listener: (any Channel)?
        /// The open connections: the client's side and the server's side of each.
        var clients: [ObjectIdentifier: any Channel] = [:]
        var servers: [ObjectIdentifier: any Channel] = [:]
    }

    private struct Refused: Error {}

    public let targetHost: String
    public let targetPort: Int
    private let group: any EventLoopGroup
    private let state = NIOLockedValueBox(State())

    public init(targetHost: String = "127.0.0.1", targetPort: Int, group: (any EventLoopGroup)? = nil) {
        self.targetHost = targetHost
        self.targetPort = targetPort
        self.group = group ?? MultiThreadedEventLoopGroup.singleton
    }

    /// The port it listens on, 127.0.0.1 only (0 before ``start()``).
    public var port: Int { state.withLockedValue(\.port) }
    /// Added before each chunk forwarded from the server to the client.
    public var delay: Duration {
        get { state.withLockedValue(\.delay) }
        set { state.withLockedValue { $0.delay = newValue } }
    }
    /// Added, once per connection, before the first chunk from the server (on top of ``delay``).
    public var firstByteDelay: Duration {
        get { state.withLockedValue(\.firstByteDelay) }
        set { state.withLockedValue { $0.firstByteDelay = newValue } }
    }
    /// Connections accepted and forwarded since ``start()``.
    public var acceptedConnections: Int { state.withLockedValue(\.accepted) }
    /// Connections accepted while cut, and closed at once.
    public var refusedConnections: Int { state.withLockedValue(\.refused) }
    /// Chunks forwarded from the server to clients (a test waits on it to cut after, say, an association's answer).
    public var forwardedChunks: Int { state.withLockedValue(\.chunks) }
    /// Connections forwarded and still open.
    public var openConnections: Int { state.withLockedValue(\.clients.count) }

    /// Listens on a free port of 127.0.0.1 (``port``).
    public func start() async throws {
        let listener = try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(ChannelOptions.autoRead, value: false)
            .childChannelInitializer { [self] channel in accept(channel) }
            .bind(host: "127.0.0.1", port: 0).get()
        state.withLockedValue { state in
            state.listener = listener
            state.port = listener.localAddress?.port ?? 0
        }
    }

    /// Closes every open connection; until ``restore()``, a new connection is accepted and closed at once (the
    /// client sees its peer close, not a refusal).
    public func cut() {
        let open = state.withLockedValue { state in
            state.isCut = true
            return Array(state.clients.values) + Array(state.servers.values)
        }
        for channel in open { channel.close(promise: nil) }
    }

    /// Forwards new connections again.
    public func restore() {
        state.withLockedValue { $0.isCut = false }
    }

    /// Closes the listener and every connection, and waits until they are closed.
    public func stop() async {
        cut()
        let channels = state.withLockedValue { state in
            defer { state.listener = nil }
            return [state.listener].compactMap { $0 } + Array(state.clients.values) + Array(state.servers.values)
        }
        for channel in channels {
            channel.close(promise: nil)
            try? await channel.closeFuture.get()
        }
    }

    /// How long the next chunk from the server waits.
    fileprivate func wait(first: Bool) -> Duration {
        state.withLockedValue { $0.delay + (first ? $0.firstByteDelay : .zero) }
    }

    fileprivate func forwarded() {
        state.withLockedValue { $0.chunks += 1 }
    }

    /// Runs on the accepted channel's event loop, before it is registered: connects to the target on that loop.
    private func accept(_ client: any Channel) -> EventLoopFuture<Void> {
        let admitted = state.withLockedValue { state in
            if state.isCut { state.refused += 1 } else { state.accepted += 1 }
            return !state.isCut
        }
        guard admitted else { return client.eventLoop.makeFailedFuture(Refused()) }
        track(client, server: false)
        return ClientBootstrap(group: client.eventLoop)
            .channelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .channelOption(ChannelOptions.autoRead, value: false)
            .channelInitializer { [self] server in
                server.eventLoop.makeCompletedFuture { try server.pipeline.syncOperations.addHandler(Relay(to: client, delayedBy: self)) }
            }
            .connect(host: targetHost, port: targetPort)
            .flatMapThrowing { [self] server in
                track(server, server: true)
                guard !state.withLockedValue(\.isCut) else {
                    server.close(promise: nil)
                    throw Refused()
                }
                try client.pipeline.syncOperations.addHandler(Relay(to: server, delayedBy: nil))
            }
    }

    /// Keeps `channel` among the open ones until it closes.
    private func track(_ channel: any Channel, server: Bool) {
        let id = ObjectIdentifier(channel)
        state.withLockedValue { state in
            if server { state.servers[id] = channel } else { state.clients[id] = channel }
        }
        channel.closeFuture.whenComplete { [state] _ in
            state.withLockedValue { state in
                if server { state.servers[id] = nil } else { state.clients[id] = nil }
            }
        }
    }
}

/// Forwards what one side of a connection reads to the other side (`peer`), one chunk at a time, each after the
/// proxy's delay when there is a proxy. Reads again only once everything read has been forwarded. Both sides of
/// a connection live on the same event loop.
private final class Relay: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let peer: any Channel
    private let proxy: DelayProxy?
    private var own: (any Channel)?
    private var queue = CircularBuffer<ByteBuffer>()
    private var waiting: Scheduled<Void>?
    private var forwardedAny = false
    private var ownClosed = false

    init(to peer: any Channel, delayedBy proxy: DelayProxy?) {
        self.peer = peer
        self.proxy = proxy
    }

    /// Reading starts on both sides once both are active: the server's side connects first, the client's side
    /// becomes active when it is registered, after that.
    func channelActive(context: ChannelHandlerContext) {
        own = context.channel
        if peer.isActive {
            context.read()
            peer.read()
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        queue.append(unwrapInboundIn(data))
        forward(on: context.eventLoop)
    }

    /// The side closed: the peer is closed too, once what was read from this side has been forwarded.
    func channelInactive(context: ChannelHandlerContext) {
        ownClosed = true
        if queue.isEmpty || !peer.isActive {
            waiting?.cancel()
            waiting = nil
            queue.removeAll()
            peer.close(promise: nil)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func forward(on loop: any EventLoop) {
        guard waiting == nil else { return }
        while !queue.isEmpty {
            guard peer.isActive else { return queue.removeAll() }
            let wait = proxy?.wait(first: !forwardedAny) ?? .zero
            if wait > .zero {
                waiting = loop.assumeIsolated().scheduleTask(in: TimeAmount(wait)) { [self] in
                    waiting = nil
                    if let chunk = queue.popFirst() { send(chunk) }
                    forward(on: loop)
                }
                return
            }
            send(queue.removeFirst())
        }
        if ownClosed { peer.close(promise: nil) } else { own?.read() }
    }

    private func send(_ chunk: ByteBuffer) {
        forwardedAny = true
        peer.writeAndFlush(chunk, promise: nil)
        proxy?.forwarded()
    }
}
