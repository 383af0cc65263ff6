import HTTPTypes
import PixlCore

extension HTTPField.Name {
    /// W3C Trace Context's headers.
    static let traceparent = HTTPField.Name(TraceContext.traceparentHeader)!
    static let tracestate = HTTPField.Name(TraceContext.tracestateHeader)!
}
