import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// Makes an HTTP/1.0 request without `Connection: keep-alive` close its connection once answered, as HTTP/1.0 means.
///
/// Hummingbird closes a connection after the answer only when the request says `Connection: close`, and the version is
/// gone once a request is converted to HTTPTypes. So this handler, given to Hummingbird as an additional channel
/// handler, places one of its own before that conversion, which adds the header to such requests.
final class HTTP10CloseHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart

    func handlerAdded(context: ChannelHandlerContext) {
        let pipeline = context.pipeline.syncOperations
        if let codec = try? pipeline.handler(type: HTTP1ToHTTPServerCodec.self) {
            try? pipeline.addHandler(MarkHTTP10Close(), position: .before(codec))
        }
    }

    /// On the HTTP/1 side: adds `Connection: close` to an HTTP/1.0 request that does not ask to be kept alive.
    private final class MarkHTTP10Close: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias InboundOut = HTTPServerRequestPart

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard case .head(var head) = unwrapInboundIn(data), head.version == .http1_0, !head.isKeepAlive else {
                context.fireChannelRead(data)
                return
            }
            head.headers.replaceOrAdd(name: "connection", value: "close")
            context.fireChannelRead(wrapInboundOut(.head(head)))
        }
    }
}
