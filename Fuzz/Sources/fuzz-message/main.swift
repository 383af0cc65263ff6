import FuzzChecks

/// libFuzzer's entry point: one message body, decoded as the RabbitMQ intake and `pixl-imaging process` decode it.
/// Properties: decoding never traps; a message round-trips; an error repeats nothing of the body (``Check``).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMessage(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    Check.decodeMessage(Array(UnsafeRawBufferPointer(start: start, count: count)))
    return 0
}
