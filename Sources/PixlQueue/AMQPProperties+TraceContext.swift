public import AMQPClient
public import PixlCore

extension AMQPProperties {
    /// The W3C Trace Context in the message's headers (`traceparent`, `tracestate`, as OpenTelemetry's AMQP
    /// instrumentations write them: long strings, or byte arrays of UTF-8), when its `traceparent` is valid.
    public var traceContext: TraceContext? {
        TraceContext(traceparent: header(TraceContext.traceparentHeader), tracestate: header(TraceContext.tracestateHeader))
    }

    private func header(_ name: String) -> String? {
        switch headers?[name] {
        case .string(let text): text
        case .bytes(let bytes): String(validating: bytes, as: UTF8.self)
        default: nil
        }
    }
}
