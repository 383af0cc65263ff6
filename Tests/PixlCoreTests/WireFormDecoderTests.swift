import Foundation
import Testing

@testable import PixlCore

/// Wire-form shapes beyond the fixtures: zone transitions, numpy and pandas variants, `py/id` misuse.
struct WireFormDecoderTests {
    static let utc = #"{"py/reduce": [{"py/type": "datetime.timezone"}, {"py/tuple": [{"py/reduce": [{"py/type": "datetime.timedelta"}, {"py/tuple": [0, 0, 0]}]}]}]}"#

    /// A wire-form body (the layout of fixture 001) with the given raw JSON for three fields.
    static func wireBody(
        studyDate: String = date(2022, 1, 1), procedureID: String = "0", timestamp: String = dateTime([0x07, 0xE7, 1, 1, 0, 1, 0, 0, 0, 0], tz: utc)
    ) -> [UInt8] {
        Array((#"{"py/object": "core.patient_queue.message.Message", "mrn": "m", "accession_number": "a", "study_uid": "1.2", "#
            + #""study_date": \#(studyDate), "procedure_occurrence_id": \#(procedureID), "project_name": "p", "#
            + #""extract_generated_timestamp": \#(timestamp)}"#).utf8)
    }

    static func date(_ year: Int, _ month: UInt8, _ day: UInt8) -> String {
        let state = Data([UInt8(year >> 8), UInt8(year & 0xFF), month, day]).base64EncodedString()
        return #"{"py/object": "datetime.date", "__reduce__": [{"py/type": "datetime.date"}, ["\#(state)"]]}"#
    }

    static func dateTime(_ state: [UInt8], tz: String? = nil) -> String {
        let arguments = "\"\(Data(state).base64EncodedString())\"" + (tz.map { ", " + $0 } ?? "")
        return #"{"py/object": "datetime.datetime", "__reduce__": [{"py/type": "datetime.datetime"}, [\#(arguments)]]}"#
    }

    static func zone(_ key: String) -> String {
        #"{"py/reduce": [{"py/function": "zoneinfo.ZoneInfo._unpickle"}, {"py/tuple": ["\#(key)", 1]}]}"#
    }

    static func fixedOffset(days: Int, seconds: Int, microseconds: Int) -> String {
        #"{"py/reduce": [{"py/type": "datetime.timezone"}, {"py/tuple": [{"py/reduce": [{"py/type": "datetime.timedelta"}, {"py/tuple": [\#(days), \#(seconds), \#(microseconds)]}]}]}]}"#
    }

    static func numpyScalar(code: String, byteOrder: String, bytes: [UInt8], module: String = "numpy._core") -> String {
        let dtype = #"{"py/reduce": [{"py/type": "numpy.dtype"}, {"py/tuple": ["\#(code)", false, true]}, {"py/tuple": [3, "\#(byteOrder)", null, null, null, -1, -1, 0]}]}"#
        return #"{"py/reduce": [{"py/function": "\#(module).multiarray.scalar"}, {"py/tuple": [\#(dtype), {"py/b64": "\#(Data(bytes).base64EncodedString())"}]}]}"#
    }

    static func pandasTimestamp(_ value: Int64, resolution: Int, tz: String = "null") -> String {
        #"{"py/reduce": [{"py/function": "pandas._libs.tslibs.timestamps._unpickle_timestamp"}, {"py/tuple": [\#(value), null, \#(tz), \#(resolution)]}]}"#
    }

    static func error(_ body: [UInt8]) -> MessageDecodingError? {
        do {
            _ = try MessageDecoder.decode(body)
            return nil
        } catch {
            return error
        }
    }

    // MARK: Time zones

    /// `zoneinfo` with `fold=0` (jsonpickle loses `fold`): the pre-transition offset in a repeated or skipped hour.
    static let londonCases: [([UInt8], String)] = [
        ([0x07, 0xE8, 7, 1, 12, 34, 56, 0x0C, 0x0A, 0x14], "2024-07-01T12:34:56.789012+01:00"),
        ([0x07, 0xE8, 1, 15, 9, 0, 0, 0, 0, 0], "2024-01-15T09:00:00+00:00"),
        ([0x07, 0xE8, 3, 31, 1, 30, 0, 0, 0, 0], "2024-03-31T01:30:00+00:00"),  // skipped hour
        ([0x07, 0xE8, 10, 27, 1, 30, 0, 0, 0, 0], "2024-10-27T01:30:00+01:00"),  // repeated hour
        ([0x07, 0xE8, 10 | 0x80, 27, 1, 30, 0, 0, 0, 0], "2024-10-27T01:30:00+01:00"),  // fold bit masked
    ]

    @Test(arguments: londonCases)
    func zoneInfoOffsetsFollowTheTzDatabase(state: [UInt8], printed: String) throws {
        let message = try MessageDecoder.decode(Self.wireBody(timestamp: Self.dateTime(state, tz: Self.zone("Europe/London"))))
        #expect(message.extractGeneratedTimestamp.description == printed)
    }

    @Test func zoneKeysThatAreNotZonesAreRefused() {
        for key in ["Mars/Olympus_Mons", "../../../etc/passwd", "/etc/localtime", "", "Europe/London\\u0000"] {
            let error = Self.error(Self.wireBody(timestamp: Self.dateTime([0x07, 0xE8, 1, 1, 0, 0, 0, 0, 0, 0], tz: Self.zone(key))))
            #expect(error == MessageDecodingError(field: "extract_generated_timestamp", problem: .invalidValue("the time zone is not in the tz database")))
        }
        #expect(Self.error(Self.wireBody(timestamp: Self.dateTime([0x07, 0xE8, 1, 1, 0, 0, 0, 0, 0, 0], tz: Self.zone("UTC")))) == nil)
    }

    @Test func fixedOffsetsMustBeWholeSecondsWithinADay() throws {
        let state: [UInt8] = [0x07, 0xE8, 1, 1, 0, 0, 0, 0, 0, 0]
        let odd = try MessageDecoder.decode(Self.wireBody(timestamp: Self.dateTime(state, tz: Self.fixedOffset(days: -1, seconds: 86_399, microseconds: 0))))
        #expect(odd.extractGeneratedTimestamp.description == "2024-01-01T00:00:00-00:00:01")
        for (days, seconds, microseconds) in [(0, 0, 1), (1, 0, 0), (-1, 0, 0), (0, 86_400, 0), (0, -1, 0), (-9_223_372_036_854_775_807, 0, 0)] {
            let error = Self.error(Self.wireBody(timestamp: Self.dateTime(state, tz: Self.fixedOffset(days: days, seconds: seconds, microseconds: microseconds))))
            #expect(error?.field == "extract_generated_timestamp")
        }
    }

    // MARK: numpy and pandas

    static let numpyCases: [(String, String, [UInt8], Int64)] = [
        ("i8", "<", [0x35, 0xFB, 0x04, 0x8E, 0xE0, 0xFE, 0xFF, 0xFF], -1_234_567_890_123),
        ("i8", ">", [0xFF, 0xFF, 0xFE, 0xE0, 0x8E, 0x04, 0xFB, 0x35], -1_234_567_890_123),
        ("i2", "<", [0xFE, 0xFF], -2),
        ("u2", "<", [0xFE, 0xFF], 65_534),
        ("u1", "|", [0xFF], 255),
        ("u8", "<", [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F], .max),
    ]

    @Test(arguments: numpyCases)
    func numpyIntegersDecode(code: String, byteOrder: String, bytes: [UInt8], value: Int64) throws {
        let message = try MessageDecoder.decode(Self.wireBody(procedureID: Self.numpyScalar(code: code, byteOrder: byteOrder, bytes: bytes)))
        #expect(message.procedureOccurrenceID == value)
        let numpy1 = try MessageDecoder.decode(Self.wireBody(procedureID: Self.numpyScalar(code: code, byteOrder: byteOrder, bytes: bytes, module: "numpy.core")))
        #expect(numpy1.procedureOccurrenceID == value)
    }

    static let unsupportedNumpyCases: [(String, String, [UInt8])] = [
        ("u8", "<", [0, 0, 0, 0, 0, 0, 0, 0x80]), ("i8", "<", [1, 2, 3, 4]), ("f8", "<", [0, 0, 0, 0, 0, 0, 0, 0]),
        ("i3", "<", [1, 2, 3]), ("i2", "|", [1, 2]), ("i4", "=", [1, 2, 3, 4]),
    ]

    @Test(arguments: unsupportedNumpyCases)
    func otherNumpyScalarsAreRefused(code: String, byteOrder: String, bytes: [UInt8]) {
        let error = Self.error(Self.wireBody(procedureID: Self.numpyScalar(code: code, byteOrder: byteOrder, bytes: bytes)))
        #expect(error?.field == "procedure_occurrence_id")
    }

    @Test func pandasTimestampsUseTheirResolutionAndZone() throws {
        let milliseconds = try MessageDecoder.decode(Self.wireBody(timestamp: Self.pandasTimestamp(-1, resolution: 8)))
        #expect(milliseconds.extractGeneratedTimestamp.description == "1969-12-31T23:59:59.999000")
        let london = try MessageDecoder.decode(Self.wireBody(timestamp: Self.pandasTimestamp(1_719_837_296, resolution: 7, tz: Self.zone("Europe/London"))))
        #expect(london.extractGeneratedTimestamp.description == "2024-07-01T13:34:56+01:00")
        let studyDate = try MessageDecoder.decode(Self.wireBody(studyDate: Self.pandasTimestamp(1_704_153_600_000_000, resolution: 9)))
        #expect(studyDate.studyDate.description == "2024-01-02")
        for (value, resolution) in [(Int64.max, 7), (Int64.min, 7), (0, 6), (0, 11)] {
            #expect(Self.error(Self.wireBody(timestamp: Self.pandasTimestamp(value, resolution: resolution)))?.field == "extract_generated_timestamp")
        }
    }

    // MARK: py/id

    @Test func backReferencesMustPointBackAtTheRightKind() {
        let state: [UInt8] = [0x07, 0xE8, 1, 1, 0, 0, 0, 0, 0, 0]
        // 0 is the Message itself, still being decoded.
        #expect(Self.error(Self.wireBody(timestamp: #"{"py/id": 0}"#))?.field == "extract_generated_timestamp")
        // 1 is the study date, not a tzinfo.
        #expect(Self.error(Self.wireBody(timestamp: Self.dateTime(state, tz: #"{"py/id": 1}"#)))
            == MessageDecodingError(field: "extract_generated_timestamp", problem: .wrongType(expected: "a pickled tzinfo")))
        // A reference to the datetime being decoded (index 2) is a cycle.
        #expect(Self.error(Self.wireBody(timestamp: Self.dateTime(state, tz: #"{"py/id": 2}"#)))?.field == "extract_generated_timestamp")
        #expect(Self.error(Self.wireBody(studyDate: #"{"py/id": "1"}"#))?.field == "study_date")
        #expect(Self.error(Self.wireBody(studyDate: #"{"py/id": 1, "x": 2}"#))?.field == "study_date")
    }

    @Test func nodesMustHaveExactlyTheKnownShape() {
        let wrongType = #"{"py/object": "datetime.date", "__reduce__": [{"py/type": "datetime.datetime"}, ["B+YBAQ=="]]}"#
        #expect(Self.error(Self.wireBody(studyDate: wrongType)) == MessageDecodingError(field: "study_date", problem: .unsupportedObject))
        let extraKey = #"{"py/object": "datetime.date", "__reduce__": [{"py/type": "datetime.date"}, ["B+YBAQ=="]], "py/state": 1}"#
        #expect(Self.error(Self.wireBody(studyDate: extraKey))?.field == "study_date")
        let extraArgument = #"{"py/object": "datetime.date", "__reduce__": [{"py/type": "datetime.date"}, ["B+YBAQ==", 1]]}"#
        #expect(Self.error(Self.wireBody(studyDate: extraArgument))?.field == "study_date")
        let function = #"{"py/reduce": [{"py/function": "builtins.eval"}, {"py/tuple": ["1"]}]}"#
        #expect(Self.error(Self.wireBody(procedureID: function)) == MessageDecodingError(field: "procedure_occurrence_id", problem: .unsupportedObject))
    }

    @Test func wireFormProcedureIDMayBeADecimalString() throws {
        #expect(try MessageDecoder.decode(Self.wireBody(procedureID: "\"234\"")).procedureOccurrenceID == 234)
        #expect(try MessageDecoder.decode(Self.wireBody(procedureID: "\"-9223372036854775808\"")).procedureOccurrenceID == .min)
        for text in ["\"\"", "\" 234\"", "\"+234\"", "\"2.5\"", "\"9223372036854775808\"", "\"0x10\""] {
            #expect(Self.error(Self.wireBody(procedureID: text))?.field == "procedure_occurrence_id", "\(text)")
        }
    }
}
