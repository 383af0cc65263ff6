import PixlCore
import Testing

/// The W3C Trace Context a message may come with: only a well-formed `traceparent` is kept, with its `tracestate` when
/// that is well formed too; anything else is ignored.
struct TraceContextTests {
    static let valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    @Test func aValidTraceparentIsKeptWithItsTracestate() throws {
        let context = try #require(TraceContext(traceparent: Self.valid, tracestate: "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"))
        #expect(context.traceparent == Self.valid && context.tracestate == "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE")
        #expect(TraceContext(traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", tracestate: nil) != nil, "not sampled")
        #expect(TraceContext(traceparent: Self.valid, tracestate: " , a@b=1 ,, k-1_*/x=v v,")?.tracestate != nil, "spaces and empty members")
    }

    @Test(arguments: [
        "",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
        "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
        " 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1z",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01, 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-é1",
    ])
    func anInvalidTraceparentIsIgnored(_ traceparent: String) {
        #expect(TraceContext(traceparent: traceparent, tracestate: "rojo=1") == nil)
    }

    @Test func noTraceparentNoContext() {
        #expect(TraceContext(traceparent: nil, tracestate: "rojo=1") == nil)
    }

    @Test(arguments: [
        "rojo",
        "=1",
        "Rojo=1",
        "rojo=",
        "rojo=a,b",
        "rojo=1=2",
        "rojo=1\t2",
        "ro jo=1",
        "_rojo=1",
        "a@b@c=1",
        "rojo=\u{7F}",
        String(repeating: "k=v,", count: 33),
        "k=" + String(repeating: "v", count: 511),
    ])
    func anInvalidTracestateIsDroppedKeepingTheTraceparent(_ tracestate: String) throws {
        let context = try #require(TraceContext(traceparent: Self.valid, tracestate: tracestate))
        #expect(context.tracestate == nil)
    }
}
