import Foundation

/// A Python object rebuilt from one of the jsonpickle shapes that PIXL's wire form uses (see the
/// fixture README of `pixl-messages`). Only data is rebuilt: names are compared, never looked up.
enum PickledValue {
    /// `datetime.date`.
    case date(CalendarDate)
    /// `datetime.datetime` or `pandas.Timestamp`, as wall-clock time with its offset when aware.
    case dateTime(ExtractTimestamp)
    /// `datetime.timezone` or `zoneinfo.ZoneInfo`.
    case timeZone(PickledTimeZone)
    /// `datetime.timedelta`, whole seconds and the remaining microseconds.
    case timeDelta(seconds: Int, microseconds: Int)
    /// `numpy.dtype` of an integer type.
    case integerType(NumpyIntegerType)
    /// A numpy integer scalar.
    case integer(Int64)
}

/// A Python `tzinfo`: a fixed offset, or an IANA zone whose offset depends on the time.
enum PickledTimeZone {
    case fixed(offsetSeconds: Int)
    case zone(TimeZone)

    /// The offset for a local wall-clock time (seconds since 1970-01-01T00:00 as if it were UTC), as
    /// Python's `zoneinfo` gives it with `fold=0`: in a repeated hour the first (pre-transition) offset,
    /// in a skipped hour the offset before the transition. Assumes at most one transition within a day.
    func offset(forWallTime wallTime: Int) -> Int {
        switch self {
        case .fixed(let offset):
            return offset
        case .zone:
            let before = offset(atInstant: wallTime - 86_400)
            let after = offset(atInstant: wallTime + 86_400)
            if offset(atInstant: wallTime - before) == before { return before }
            if offset(atInstant: wallTime - after) == after { return after }
            return before
        }
    }

    /// The offset in effect at an instant (seconds since the Unix epoch).
    func offset(atInstant instant: Int) -> Int {
        switch self {
        case .fixed(let offset): offset
        case .zone(let zone): zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(instant)))
        }
    }

    /// The zone for a `zoneinfo` key, or `nil` when the tz database has no such zone.
    ///
    /// Keys that could be read as file paths are refused before Foundation sees them.
    init?(zoneKey key: String) {
        let allowed = key.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "+"),
                UInt8(ascii: "/"):
                true
            default: false
            }
        }
        guard allowed, (1...64).contains(key.utf8.count), !key.hasPrefix("/"), !key.contains(".."),
            let zone = TimeZone(identifier: key)
        else { return nil }
        self = .zone(zone)
    }
}

/// A numpy integer dtype: width in bytes, signedness and byte order.
struct NumpyIntegerType: Sendable, Hashable {
    var byteCount: Int
    var isSigned: Bool
    var isLittleEndian: Bool

    /// The value of a scalar's raw bytes (two's complement); `nil` when the byte count is wrong or
    /// an unsigned value does not fit in `Int64`.
    func value(of bytes: [UInt8]) -> Int64? {
        guard bytes.count == byteCount else { return nil }
        let ordered: [UInt8] = isLittleEndian ? bytes.reversed() : bytes
        var magnitude: UInt64 = 0
        for byte in ordered { magnitude = magnitude << 8 | UInt64(byte) }
        if isSigned {
            // Sign-extend from the dtype's width.
            let unusedBits = 64 - 8 * byteCount
            return Int64(bitPattern: magnitude << unusedBits) >> unusedBits
        }
        return magnitude <= UInt64(Int64.max) ? Int64(magnitude) : nil
    }
}
