import Foundation

/// Rebuilds the pickled values of PIXL's jsonpickle wire form, node by node, keeping the `py/id` table.
///
/// Only the shapes listed in the `pixl-messages` fixture README are accepted: `datetime.date` and
/// `datetime.datetime` objects, and `py/reduce` of `datetime.timezone`, `datetime.timedelta`,
/// `zoneinfo.ZoneInfo._unpickle`, `numpy.dtype`, numpy's `scalar` and pandas' `_unpickle_timestamp`.
/// Any other class or function name is refused as ``MessageDecodingError/Problem/unsupportedObject``, without
/// repeating the name (it comes from the body).
/// Errors carry no field: the caller adds the field whose value was being decoded.
struct WireFormDecoder {
    // MARK: Member variables

    /// The `py/object` class of the top-level object.
    static let messageClass = "core.patient_queue.message.Message"

    /// Objects by `py/id` index, in the order they first appear (depth-first, document order).
    /// Index 0 is the Message itself. `nil` while an object is still being rebuilt.
    private var objects: [PickledValue?] = [nil]

    // MARK: Methods

    /// Rebuilds one node: a `py/object`, a `py/reduce` or a `py/id` back-reference.
    /// - Parameter expected: what the caller wants, named in the error when the node is no pickled object at all.
    mutating func decode(_ node: JSONValue, expected: String) throws(MessageDecodingError) -> PickledValue {
        guard case .object(let members) = node else { throw Self.wrongType(expected) }
        if let reference = node["py/id"], members.count == 1 {
            return try resolve(reference)
        }
        if case .string(let name)? = node["py/object"] {
            return try decodeObject(name, members: members)
        }
        if case .array(let items)? = node["py/reduce"], members.count == 1 {
            return try decodeReduce(items)
        }
        if Self.isPickled(node) { throw Self.unsupported }
        throw Self.wrongType(expected)
    }

    /// Whether a node is a jsonpickle node of some kind: an object with a `py/` tag.
    static func isPickled(_ node: JSONValue) -> Bool {
        guard case .object(let members) = node else { return false }
        return members.contains { $0.key.hasPrefix("py/") }
    }

    // MARK: Objects

    /// `{"py/object": "datetime.date" | "datetime.datetime", "__reduce__": [{"py/type": same}, [state, tzinfo?]]}`.
    private mutating func decodeObject(_ name: String, members: [JSONValue.Member]) throws(MessageDecodingError) -> PickledValue {
        let id = register()
        guard name == "datetime.date" || name == "datetime.datetime" else { throw Self.unsupported }
        guard members.count == 2, case .array(let reduce)? = JSONValue.object(members)["__reduce__"], reduce.count == 2 else {
            throw Self.invalid("a pickled \(name) must hold only __reduce__ with a type and its arguments")
        }
        try Self.requireCallable(reduce[0], tag: "py/type", name: name)
        guard case .array(let arguments) = reduce[1], let first = arguments.first, case .string(let state) = first else {
            throw Self.invalid("a pickled \(name) must have a base64 state")
        }
        let value: PickledValue
        if name == "datetime.date" {
            guard arguments.count == 1 else { throw Self.invalid("a pickled date takes only its state") }
            value = .date(try Self.date(fromState: state))
        } else {
            guard arguments.count <= 2 else { throw Self.invalid("a pickled datetime takes its state and a tzinfo") }
            let timeZone = arguments.count == 2 ? try decodeTimeZone(arguments[1]) : nil
            value = .dateTime(try Self.dateTime(fromState: state, timeZone: timeZone))
        }
        objects[id] = value
        return value
    }

    /// Python pickle protocol 2 state of a `date`: `[year >> 8, year & 0xFF, month, day]`.
    private static func date(fromState state: String) throws(MessageDecodingError) -> CalendarDate {
        let bytes = try stateBytes(state)
        guard bytes.count == 4 else { throw invalid("a pickled date state must be 4 bytes") }
        guard let date = CalendarDate(year: Int(bytes[0]) << 8 | Int(bytes[1]), month: Int(bytes[2]), day: Int(bytes[3])) else {
            throw invalid("the pickled date is not a calendar date")
        }
        return date
    }

    /// State of a `datetime`: the date's 4 bytes (bit 7 of the month is `fold`, masked off), hour, minute,
    /// second, and the microsecond as 3 big-endian bytes. The fields are wall-clock time of `timeZone`.
    private static func dateTime(fromState state: String, timeZone: PickledTimeZone?) throws(MessageDecodingError) -> ExtractTimestamp {
        let bytes = try stateBytes(state)
        guard bytes.count == 10 else { throw invalid("a pickled datetime state must be 10 bytes") }
        let microsecond = Int(bytes[7]) << 16 | Int(bytes[8]) << 8 | Int(bytes[9])
        guard let date = CalendarDate(year: Int(bytes[0]) << 8 | Int(bytes[1]), month: Int(bytes[2] & 0x7F), day: Int(bytes[3])),
            var timestamp = ExtractTimestamp(
                date: date, hour: Int(bytes[4]), minute: Int(bytes[5]), second: Int(bytes[6]), nanosecond: microsecond * 1000)
        else { throw invalid("the pickled datetime is not a valid date and time") }
        if let timeZone {
            let wallTime = date.daysSinceEpoch * 86_400 + timestamp.hour * 3600 + timestamp.minute * 60 + timestamp.second
            timestamp.utcOffsetSeconds = timeZone.offset(forWallTime: wallTime)
        }
        return timestamp
    }

    private static func stateBytes(_ base64: String) throws(MessageDecodingError) -> [UInt8] {
        guard let data = Data(base64Encoded: base64) else { throw invalid("the pickled state is not valid base64") }
        return Array(data)
    }

    // MARK: Reductions

    /// `{"py/reduce": [{"py/type" | "py/function": name}, {"py/tuple": arguments}, state?]}`.
    private mutating func decodeReduce(_ items: [JSONValue]) throws(MessageDecodingError) -> PickledValue {
        let id = register()
        guard let callable = items.first, case .object(let callableMembers) = callable, callableMembers.count == 1,
            let tag = callableMembers.first?.key, tag == "py/type" || tag == "py/function",
            case .string(let name) = callableMembers[0].value
        else { throw Self.invalid("py/reduce must start with a py/type or py/function") }
        let value: PickledValue
        switch (tag, name) {
        case ("py/type", "datetime.timedelta"):
            value = try Self.timeDelta(Self.arguments(items, count: 3))
        case ("py/type", "datetime.timezone"):
            value = .timeZone(try decodeFixedOffset(Self.arguments(items, count: 1...2)))
        case ("py/type", "numpy.dtype"):
            value = .integerType(try Self.integerType(items))
        case ("py/function", "zoneinfo.ZoneInfo._unpickle"):
            let arguments = try Self.arguments(items, count: 2)
            guard case .string(let key) = arguments[0], case .integer = arguments[1] else {
                throw Self.invalid("zoneinfo.ZoneInfo._unpickle takes a zone key and a flag")
            }
            guard let zone = PickledTimeZone(zoneKey: key) else { throw Self.invalid("the time zone is not in the tz database") }
            value = .timeZone(zone)
        case ("py/function", "numpy._core.multiarray.scalar"), ("py/function", "numpy.core.multiarray.scalar"):
            value = .integer(try decodeNumpyScalar(Self.arguments(items, count: 2)))
        case ("py/function", "pandas._libs.tslibs.timestamps._unpickle_timestamp"):
            value = .dateTime(try decodePandasTimestamp(Self.arguments(items, count: 4)))
        default:
            throw Self.unsupported
        }
        objects[id] = value
        return value
    }

    /// `timedelta(days, seconds, microseconds)` in Python's normal form (0 ≤ seconds < 86400, 0 ≤ µs < 10⁶).
    private static func timeDelta(_ arguments: [JSONValue]) throws(MessageDecodingError) -> PickledValue {
        guard case .integer(let days) = arguments[0], case .integer(let seconds) = arguments[1],
            case .integer(let microseconds) = arguments[2],
            (-999_999_999...999_999_999).contains(days), (0..<86_400).contains(seconds), (0..<1_000_000).contains(microseconds)
        else { throw invalid("a pickled timedelta must be normalised days, seconds and microseconds") }
        return .timeDelta(seconds: Int(days) * 86_400 + Int(seconds), microseconds: Int(microseconds))
    }

    /// `timezone(timedelta)` or `timezone(timedelta, name)`: a whole-second offset of less than a day.
    private mutating func decodeFixedOffset(_ arguments: [JSONValue]) throws(MessageDecodingError) -> PickledTimeZone {
        guard case .timeDelta(let seconds, let microseconds) = try decode(arguments[0], expected: "a pickled timedelta") else {
            throw Self.wrongType("a pickled timedelta")
        }
        if arguments.count == 2 {
            guard case .string = arguments[1] else { throw Self.invalid("a timezone's name must be a string") }
        }
        guard microseconds == 0, (-86_399...86_399).contains(seconds) else {
            throw Self.invalid("a UTC offset must be whole seconds and less than a day")
        }
        return .fixed(offsetSeconds: seconds)
    }

    private mutating func decodeTimeZone(_ node: JSONValue) throws(MessageDecodingError) -> PickledTimeZone {
        guard case .timeZone(let zone) = try decode(node, expected: "a pickled tzinfo") else { throw Self.wrongType("a pickled tzinfo") }
        return zone
    }

    /// `dtype("i8", False, True)` with state `(3, "<", …)`: an integer type of 1, 2, 4 or 8 bytes.
    private static func integerType(_ items: [JSONValue]) throws(MessageDecodingError) -> NumpyIntegerType {
        guard items.count == 3, let arguments = try? tupleItems(items[1]), arguments.count == 3,
            let state = try? tupleItems(items[2]), state.count == 8,
            case .string(let code) = arguments[0], case .bool = arguments[1], case .bool = arguments[2],
            case .integer(3) = state[0], case .string(let byteOrder) = state[1]
        else { throw invalid("unsupported numpy dtype") }
        let kind = code.first
        guard code.utf8.count == 2, kind == "i" || kind == "u", let byteCount = Int(code.dropFirst()), [1, 2, 4, 8].contains(byteCount),
            byteOrder == "<" || byteOrder == ">" || (byteOrder == "|" && byteCount == 1)
        else { throw invalid("unsupported numpy dtype") }
        return NumpyIntegerType(byteCount: byteCount, isSigned: kind == "i", isLittleEndian: byteOrder != ">")
    }

    /// `scalar(dtype, {"py/b64": raw bytes})`.
    private mutating func decodeNumpyScalar(_ arguments: [JSONValue]) throws(MessageDecodingError) -> Int64 {
        guard case .integerType(let type) = try decode(arguments[0], expected: "a numpy dtype") else {
            throw Self.wrongType("a numpy dtype")
        }
        guard case .object(let payload) = arguments[1], payload.count == 1, payload[0].key == "py/b64",
            case .string(let base64) = payload[0].value, let data = Data(base64Encoded: base64),
            let value = type.value(of: Array(data))
        else { throw Self.invalid("a numpy scalar's bytes do not match its dtype") }
        return value
    }

    /// `_unpickle_timestamp(value, freq, tz, reso)`: `value` units of `reso` (7 = s, 8 = ms, 9 = µs, 10 = ns)
    /// since the Unix epoch in UTC, shown as wall-clock time of `tz` (naive when `tz` is null).
    private mutating func decodePandasTimestamp(_ arguments: [JSONValue]) throws(MessageDecodingError) -> ExtractTimestamp {
        let unitsPerSecond: [Int64: Int64] = [7: 1, 8: 1_000, 9: 1_000_000, 10: 1_000_000_000]
        guard case .integer(let value) = arguments[0], arguments[1] == .null, case .integer(let resolution) = arguments[3],
            let perSecond = unitsPerSecond[resolution]
        else { throw Self.invalid("a pandas Timestamp must be an integer count of a known unit") }
        let timeZone = arguments[2] == .null ? nil : try decodeTimeZone(arguments[2])
        var (seconds, units) = value.quotientAndRemainder(dividingBy: perSecond)
        if units < 0 {
            seconds -= 1
            units += perSecond
        }
        // Years 1 to 9999 only; this also keeps the arithmetic below far from overflow.
        guard (-62_135_596_800...253_402_300_799).contains(seconds) else { throw Self.invalid("the pandas Timestamp is out of range") }
        let offset = timeZone?.offset(atInstant: Int(seconds))
        let wallTime = Int(seconds) + (offset ?? 0)
        let days = wallTime.floorDivided(by: 86_400)
        let secondOfDay = wallTime - days * 86_400
        guard let date = CalendarDate(daysSinceEpoch: days),
            let timestamp = ExtractTimestamp(
                date: date, hour: secondOfDay / 3600, minute: secondOfDay / 60 % 60, second: secondOfDay % 60,
                nanosecond: Int(units * (1_000_000_000 / perSecond)), utcOffsetSeconds: offset)
        else { throw Self.invalid("the pandas Timestamp is out of range") }
        return timestamp
    }

    // MARK: Helpers

    /// Gives the node that starts here the next `py/id` index.
    private mutating func register() -> Int {
        objects.append(nil)
        return objects.count - 1
    }

    private func resolve(_ reference: JSONValue) throws(MessageDecodingError) -> PickledValue {
        guard case .integer(let index) = reference, index >= 0, index < objects.count, let value = objects[Int(index)] else {
            throw Self.invalid("py/id does not refer to an earlier complete object")
        }
        return value
    }

    /// The `py/tuple` arguments of a reduction `[callable, {"py/tuple": [...]}]`, checking their count.
    private static func arguments(_ items: [JSONValue], count: Int) throws(MessageDecodingError) -> [JSONValue] {
        try arguments(items, count: count...count)
    }

    private static func arguments(_ items: [JSONValue], count: ClosedRange<Int>) throws(MessageDecodingError) -> [JSONValue] {
        guard items.count == 2, let arguments = try? tupleItems(items[1]), count.contains(arguments.count) else {
            throw invalid("unexpected arguments for a py/reduce")
        }
        return arguments
    }

    private static func tupleItems(_ node: JSONValue) throws(MessageDecodingError) -> [JSONValue] {
        guard case .object(let members) = node, members.count == 1, members[0].key == "py/tuple",
            case .array(let items) = members[0].value
        else { throw invalid("expected a py/tuple") }
        return items
    }

    /// Checks `{tag: name}`: a different name is refused as unsupported (it is never looked up).
    private static func requireCallable(_ node: JSONValue, tag: String, name: String) throws(MessageDecodingError) {
        guard case .object(let members) = node, members.count == 1, members[0].key == tag, case .string(let found) = members[0].value,
            found == name
        else { throw unsupported }
    }

    private static func invalid(_ why: String) -> MessageDecodingError {
        MessageDecodingError(field: nil, problem: .invalidValue(why))
    }

    private static func wrongType(_ expected: String) -> MessageDecodingError {
        MessageDecodingError(field: nil, problem: .wrongType(expected: expected))
    }

    /// Refuses a pickled class or function, without naming it: the name comes from the body.
    static let unsupported = MessageDecodingError(field: nil, problem: .unsupportedObject)
}

extension Int {
    /// Division rounding toward negative infinity.
    fileprivate func floorDivided(by divisor: Int) -> Int {
        let (quotient, remainder) = quotientAndRemainder(dividingBy: divisor)
        return remainder < 0 ? quotient - 1 : quotient
    }
}
