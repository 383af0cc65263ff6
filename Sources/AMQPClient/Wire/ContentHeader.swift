import NIOCore

/// The `basic` class content properties, sent in a content header frame before the body.
public struct AMQPProperties: Sendable, Hashable {
    public enum DeliveryMode: UInt8, Sendable {
        case transient = 1
        case persistent = 2
    }

    // MARK: Member variables
    public var contentType: String?
    public var contentEncoding: String?
    public var headers: AMQPFieldTable?
    public var deliveryMode: UInt8?
    public var priority: UInt8?
    public var correlationID: String?
    public var replyTo: String?
    public var expiration: String?
    public var messageID: String?
    public var timestamp: UInt64?
    public var type: String?
    public var userID: String?
    public var appID: String?
    public var clusterID: String?

    // MARK: Initialization
    public init(
        contentType: String? = nil,
        contentEncoding: String? = nil,
        headers: AMQPFieldTable? = nil,
        deliveryMode: DeliveryMode? = nil,
        priority: UInt8? = nil,
        correlationID: String? = nil,
        replyTo: String? = nil,
        expiration: String? = nil,
        messageID: String? = nil,
        timestamp: UInt64? = nil,
        type: String? = nil,
        userID: String? = nil,
        appID: String? = nil,
        clusterID: String? = nil
    ) {
        self.contentType = contentType
        self.contentEncoding = contentEncoding
        self.headers = headers
        self.deliveryMode = deliveryMode?.rawValue
        self.priority = priority
        self.correlationID = correlationID
        self.replyTo = replyTo
        self.expiration = expiration
        self.messageID = messageID
        self.timestamp = timestamp
        self.type = type
        self.userID = userID
        self.appID = appID
        self.clusterID = clusterID
    }

    /// Persistent delivery (mode 2): the broker writes the message to disk on a durable queue.
    public static var persistent: AMQPProperties { AMQPProperties(deliveryMode: .persistent) }
}

/// A content header frame's payload: the class, the total body size and the properties.
struct ContentHeader: Sendable, Hashable {
    var classID: UInt16 = 60
    var bodySize: UInt64
    var properties: AMQPProperties
}

extension ByteBuffer {
    mutating func readContentHeader() throws(AMQPWireError) -> ContentHeader {
        guard let (classID, _, bodySize, flags) = readMultipleIntegers(as: (UInt16, UInt16, UInt64, UInt16).self) else {
            throw .truncated("content header")
        }
        var p = AMQPProperties()
        // Flags are read from bit 15 downwards; bit 0 set would announce a further flags word (never used by basic).
        func has(_ bit: Int) -> Bool { flags & (1 << bit) != 0 }
        func octet() throws(AMQPWireError) -> UInt8 {
            guard let v = readInteger(as: UInt8.self) else { throw .truncated("property") }
            return v
        }
        if has(15) { p.contentType = try readShortString() }
        if has(14) { p.contentEncoding = try readShortString() }
        if has(13) { p.headers = try readFieldTable() }
        if has(12) { p.deliveryMode = try octet() }
        if has(11) { p.priority = try octet() }
        if has(10) { p.correlationID = try readShortString() }
        if has(9) { p.replyTo = try readShortString() }
        if has(8) { p.expiration = try readShortString() }
        if has(7) { p.messageID = try readShortString() }
        if has(6) {
            guard let v = readInteger(as: UInt64.self) else { throw .truncated("timestamp") }
            p.timestamp = v
        }
        if has(5) { p.type = try readShortString() }
        if has(4) { p.userID = try readShortString() }
        if has(3) { p.appID = try readShortString() }
        if has(2) { p.clusterID = try readShortString() }
        return ContentHeader(classID: classID, bodySize: bodySize, properties: p)
    }

    mutating func writeContentHeader(_ header: ContentHeader) {
        let p = header.properties
        var flags: UInt16 = 0
        func set(_ bit: Int, _ present: Bool) { if present { flags |= 1 << bit } }
        set(15, p.contentType != nil)
        set(14, p.contentEncoding != nil)
        set(13, p.headers != nil)
        set(12, p.deliveryMode != nil)
        set(11, p.priority != nil)
        set(10, p.correlationID != nil)
        set(9, p.replyTo != nil)
        set(8, p.expiration != nil)
        set(7, p.messageID != nil)
        set(6, p.timestamp != nil)
        set(5, p.type != nil)
        set(4, p.userID != nil)
        set(3, p.appID != nil)
        set(2, p.clusterID != nil)
        writeMultipleIntegers(header.classID, UInt16(0), header.bodySize, flags)
        if let v = p.contentType { writeShortString(v) }
        if let v = p.contentEncoding { writeShortString(v) }
        if let v = p.headers { writeFieldTable(v) }
        if let v = p.deliveryMode { writeInteger(v) }
        if let v = p.priority { writeInteger(v) }
        if let v = p.correlationID { writeShortString(v) }
        if let v = p.replyTo { writeShortString(v) }
        if let v = p.expiration { writeShortString(v) }
        if let v = p.messageID { writeShortString(v) }
        if let v = p.timestamp { writeInteger(v) }
        if let v = p.type { writeShortString(v) }
        if let v = p.userID { writeShortString(v) }
        if let v = p.appID { writeShortString(v) }
        if let v = p.clusterID { writeShortString(v) }
    }
}
