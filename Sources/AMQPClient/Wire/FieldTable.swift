import NIOCore

/// One value of an AMQP field table or field array, covering every type RabbitMQ understands.
///
/// The type tags follow RabbitMQ's reading of the 0-9-1 errata (`s` is a signed 16-bit integer, `x` a byte array).
public enum AMQPFieldValue: Sendable, Hashable {
    case bool(Bool)  // t
    case int8(Int8)  // b
    case uint8(UInt8)  // B
    case int16(Int16)  // s
    case uint16(UInt16)  // u
    case int32(Int32)  // I
    case uint32(UInt32)  // i
    case int64(Int64)  // l
    case float(Float)  // f
    case double(Double)  // d
    case decimal(scale: UInt8, value: UInt32)  // D
    case string(String)  // S
    case bytes([UInt8])  // x
    case array([AMQPFieldValue])  // A
    case timestamp(UInt64)  // T
    case table(AMQPFieldTable)  // F
    case void  // V
}

/// An AMQP field table: ordered name/value pairs, as used for queue arguments, headers and client properties.
///
/// ```swift
/// let arguments: AMQPFieldTable = ["x-max-priority": .int32(5), "x-dead-letter-exchange": .string("dlx")]
/// ```
public struct AMQPFieldTable: Sendable, Hashable, ExpressibleByDictionaryLiteral {
    public struct Entry: Sendable, Hashable {
        public var name: String
        public var value: AMQPFieldValue
    }

    // MARK: Member variables
    public private(set) var entries: [Entry]

    // MARK: Initialization
    public init() { self.entries = [] }

    public init(dictionaryLiteral elements: (String, AMQPFieldValue)...) {
        self.entries = elements.map { Entry(name: $0.0, value: $0.1) }
    }

    // MARK: Methods
    public var isEmpty: Bool { entries.isEmpty }

    public subscript(name: String) -> AMQPFieldValue? {
        get { entries.first { $0.name == name }?.value }
        set {
            if let index = entries.firstIndex(where: { $0.name == name }) {
                if let newValue { entries[index].value = newValue } else { entries.remove(at: index) }
            } else if let newValue {
                entries.append(Entry(name: name, value: newValue))
            }
        }
    }
}

// MARK: - Wire encoding

extension ByteBuffer {
    /// Reads an AMQP short string (octet length, at most 255 bytes).
    mutating func readShortString() throws(AMQPWireError) -> String {
        guard let length = readInteger(as: UInt8.self), let string = readString(length: Int(length)) else {
            throw .truncated("shortstr")
        }
        return string
    }

    mutating func writeShortString(_ string: String) {
        let utf8 = string.utf8
        precondition(utf8.count <= 255, "AMQP short strings are limited to 255 bytes")
        writeInteger(UInt8(utf8.count))
        writeString(string)
    }

    /// Reads an AMQP long string (32-bit length).
    mutating func readLongStringBytes() throws(AMQPWireError) -> ByteBuffer {
        guard let length = readInteger(as: UInt32.self), let slice = readSlice(length: Int(length)) else {
            throw .truncated("longstr")
        }
        return slice
    }

    mutating func readLongString() throws(AMQPWireError) -> String {
        var bytes = try readLongStringBytes()
        return bytes.readString(length: bytes.readableBytes) ?? ""
    }

    mutating func writeLongString(_ string: String) {
        writeInteger(UInt32(string.utf8.count))
        writeString(string)
    }

    mutating func writeLongString(bytes: some Collection<UInt8>) {
        writeInteger(UInt32(bytes.count))
        writeBytes(bytes)
    }

    mutating func readFieldTable() throws(AMQPWireError) -> AMQPFieldTable {
        guard let length = readInteger(as: UInt32.self), var slice = readSlice(length: Int(length)) else {
            throw .truncated("table")
        }
        var table = AMQPFieldTable()
        while slice.readableBytes > 0 {
            let name = try slice.readShortString()
            table[name] = try slice.readFieldValue()
        }
        return table
    }

    mutating func writeFieldTable(_ table: AMQPFieldTable) {
        let lengthIndex = writerIndex
        writeInteger(UInt32(0))
        for entry in table.entries {
            writeShortString(entry.name)
            writeFieldValue(entry.value)
        }
        setInteger(UInt32(writerIndex - lengthIndex - 4), at: lengthIndex)
    }

    mutating func readFieldValue() throws(AMQPWireError) -> AMQPFieldValue {
        guard let tag = readInteger(as: UInt8.self) else { throw .truncated("field value") }
        func int<I: FixedWidthInteger>(_: I.Type) throws(AMQPWireError) -> I {
            guard let value = readInteger(as: I.self) else { throw .truncated("field value") }
            return value
        }
        switch UnicodeScalar(tag) {
        case "t": return .bool(try int(UInt8.self) != 0)
        case "b": return .int8(try int(Int8.self))
        case "B": return .uint8(try int(UInt8.self))
        case "s": return .int16(try int(Int16.self))
        case "u": return .uint16(try int(UInt16.self))
        case "I": return .int32(try int(Int32.self))
        case "i": return .uint32(try int(UInt32.self))
        case "l": return .int64(try int(Int64.self))
        case "f": return .float(Float(bitPattern: try int(UInt32.self)))
        case "d": return .double(Double(bitPattern: try int(UInt64.self)))
        case "D":
            let scale = try int(UInt8.self)
            return .decimal(scale: scale, value: try int(UInt32.self))
        case "S": return .string(try readLongString())
        case "x":
            let bytes = try readLongStringBytes()
            return .bytes(Array(bytes.readableBytesView))
        case "A":
            guard let length = readInteger(as: UInt32.self), var slice = readSlice(length: Int(length)) else {
                throw .truncated("array")
            }
            var values: [AMQPFieldValue] = []
            while slice.readableBytes > 0 { values.append(try slice.readFieldValue()) }
            return .array(values)
        case "T": return .timestamp(try int(UInt64.self))
        case "F": return .table(try readFieldTable())
        case "V": return .void
        default: throw .unknownFieldType(tag)
        }
    }

    mutating func writeFieldValue(_ value: AMQPFieldValue) {
        func tag(_ character: Unicode.Scalar) { writeInteger(UInt8(character.value)) }
        switch value {
        case .bool(let v): tag("t"); writeInteger(UInt8(v ? 1 : 0))
        case .int8(let v): tag("b"); writeInteger(v)
        case .uint8(let v): tag("B"); writeInteger(v)
        case .int16(let v): tag("s"); writeInteger(v)
        case .uint16(let v): tag("u"); writeInteger(v)
        case .int32(let v): tag("I"); writeInteger(v)
        case .uint32(let v): tag("i"); writeInteger(v)
        case .int64(let v): tag("l"); writeInteger(v)
        case .float(let v): tag("f"); writeInteger(v.bitPattern)
        case .double(let v): tag("d"); writeInteger(v.bitPattern)
        case .decimal(let scale, let v): tag("D"); writeInteger(scale); writeInteger(v)
        case .string(let v): tag("S"); writeLongString(v)
        case .bytes(let v): tag("x"); writeLongString(bytes: v)
        case .array(let values):
            tag("A")
            let lengthIndex = writerIndex
            writeInteger(UInt32(0))
            for value in values { writeFieldValue(value) }
            setInteger(UInt32(writerIndex - lengthIndex - 4), at: lengthIndex)
        case .timestamp(let v): tag("T"); writeInteger(v)
        case .table(let v): tag("F"); writeFieldTable(v)
        case .void: tag("V")
        }
    }
}
