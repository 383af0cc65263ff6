import PixlCore
import Tracing

extension TraceContext {
    /// The context a job's span starts in to continue this trace, as the process's instrument reads `traceparent`
    /// and `tracestate` (OpenTelemetry's W3C propagator, once `serve` has bootstrapped it; without a tracer, nothing).
    var parentContext: InstrumentationContext {
        var context = InstrumentationContext.topLevel
        InstrumentationSystem.instrument.extract(self, into: &context, using: HeaderExtractor())
        return context
    }

    /// Reads the two headers from a stored context.
    private struct HeaderExtractor: Extractor {
        func extract(key: String, from carrier: TraceContext) -> String? {
            switch key {
            case TraceContext.traceparentHeader: carrier.traceparent
            case TraceContext.tracestateHeader: carrier.tracestate
            default: nil
            }
        }
    }
}
