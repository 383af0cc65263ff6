/// The W3C Trace Context a message came with (a `traceparent` and, with it, a `tracestate`, as HTTP headers or AMQP
/// message headers), stored with its job so that the job's span, run later by a worker, continues the sender's trace.
///
/// Only a well-formed context is kept: a `traceparent` of version `00` exactly as the W3C Recommendation writes it
/// (`00-<32 hex>-<16 hex>-<2 hex>`, lower case, neither id all zeros), and a `tracestate` only beside such a
/// `traceparent` and only when it is a valid list. Anything else is ignored: never an error, never echoed (the sender
/// chooses these headers). Not part of ``ImagingMessage/identity``: the same study asked twice is one job, which
/// keeps the context of its first message.
public struct TraceContext: Sendable, Hashable {
    // MARK: Member variables

    /// `00-<trace id>-<parent id>-<flags>`.
    public let traceparent: String
    public let tracestate: String?

    // MARK: Initialization

    /// The context of `traceparent` and `tracestate` as received, or `nil` when `traceparent` is missing or malformed;
    /// a malformed `tracestate` is dropped, keeping the `traceparent`.
    public init?(traceparent: String?, tracestate: String?) {
        guard let traceparent, Self.isValidTraceparent(traceparent) else { return nil }
        self.traceparent = traceparent
        self.tracestate = tracestate.flatMap { Self.isValidTracestate($0) ? $0 : nil }
    }

    // MARK: Validation

    /// The HTTP and AMQP header names.
    public static let traceparentHeader = "traceparent"
    public static let tracestateHeader = "tracestate"

    /// Version `00`: `00-` 32 lower-case hex digits `-` 16 `-` 2, the trace id and parent id not all zeros.
    static func isValidTraceparent(_ value: String) -> Bool {
        let bytes = Array(value.utf8)
        guard bytes.count == 55, bytes[0] == UInt8(ascii: "0"), bytes[1] == UInt8(ascii: "0"),
            bytes[2] == UInt8(ascii: "-"), bytes[35] == UInt8(ascii: "-"), bytes[52] == UInt8(ascii: "-")
        else { return false }
        let traceID = bytes[3..<35]
        let parentID = bytes[36..<52]
        let flags = bytes[53..<55]
        guard (traceID + parentID + flags).allSatisfy(isLowerHex) else { return false }
        return traceID.contains { $0 != UInt8(ascii: "0") } && parentID.contains { $0 != UInt8(ascii: "0") }
    }

    /// A list of at most 32 `key=value` members separated by commas (empty members and spaces around them allowed),
    /// at most 512 bytes: a key of `a-z 0-9 _ - * /` (optionally `tenant@system`) starting with a letter or digit, a
    /// value of 1 to 256 printable ASCII characters but `,` and `=`.
    static func isValidTracestate(_ value: String) -> Bool {
        guard value.utf8.count <= 512 else { return false }
        var members = 0
        for rawMember in value.utf8.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
            var member = Array(rawMember)
            while member.first == 0x20 || member.first == 0x09 { member.removeFirst() }
            while member.last == 0x20 || member.last == 0x09 { member.removeLast() }
            if member.isEmpty { continue }
            members += 1
            guard members <= 32, let equals = member.firstIndex(of: UInt8(ascii: "=")) else { return false }
            let key = member[..<equals]
            let stateValue = member[(equals + 1)...]
            guard isValidKey(key), (1...256).contains(stateValue.count),
                stateValue.allSatisfy({ (0x20...0x7E).contains($0) && $0 != UInt8(ascii: ",") && $0 != UInt8(ascii: "=") })
            else { return false }
        }
        return true
    }

    private static func isValidKey(_ key: some Collection<UInt8>) -> Bool {
        let parts = key.split(separator: UInt8(ascii: "@"), omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), key.count <= 256 else { return false }
        return parts.allSatisfy { part in
            guard let first = part.first, isLowerAlphanumeric(first) else { return false }
            return part.allSatisfy { isLowerAlphanumeric($0) || "_-*/".utf8.contains($0) }
        }
    }

    private static func isLowerHex(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
    }

    private static func isLowerAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
    }
}
