import PixlCore
import Tracing

/// A step a lane's claim waits in (back-pressure, the rate gate), timed before the job it brings is known: once the
/// job is claimed, it is recorded as a span under the job's, at the times it really began and ended.
struct ClaimStep: Sendable {
    var name: String
    var start: DefaultTracerClock.Instant
    var end: DefaultTracerClock.Instant

    /// Records the step as a span, child of `parent`, with its name as `pixl.step`.
    func record(under parent: InstrumentationContext) {
        let span = startSpan(name, at: start, context: parent)
        span.attributes[LogKey.step] = name
        span.end(at: end)
    }
}
