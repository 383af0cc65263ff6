import Testing

@testable import PixlCore

struct MessageDecoderTests {
    /// A plain-form body; `fields` replace or add members (a value is raw JSON text), `nil` removes one.
    static func plainBody(_ fields: KeyValuePairs<String, String?> = [:]) -> [UInt8] {
        var members: [(String, String)] = [
            ("mrn", "\"123\""), ("accession_number", "\"A1\""), ("study_uid", "\"1.2.3\""), ("series_uid", "\"\""),
            ("study_date", "\"2024-01-02\""), ("procedure_occurrence_id", "7"), ("project_name", "\"proj\""),
            ("extract_generated_timestamp", "\"2024-01-02T03:04:05+00:00\""),
        ]
        for (key, value) in fields {
            if let index = members.firstIndex(where: { $0.0 == key }) {
                if let value { members[index].1 = value } else { members.remove(at: index) }
            } else if let value {
                members.append((key, value))
            }
        }
        return Array(("{" + members.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}").utf8)
    }

    static func error(decoding body: [UInt8]) -> MessageDecodingError? {
        do {
            _ = try MessageDecoder.decode(body)
            return nil
        } catch {
            return error
        }
    }

    // MARK: Plain form

    @Test func plainFormDecodes() throws {
        let message = try MessageDecoder.decode(Self.plainBody(["series_uid": "\"1.2.3.4\\\\1.2.3.5\""]))
        #expect(message.mrn == "123")
        #expect(message.accessionNumber == "A1")
        #expect(message.studyUID == "1.2.3")
        #expect(message.seriesUID == "1.2.3.4\\1.2.3.5")
        #expect(message.studyDate == CalendarDate(year: 2024, month: 1, day: 2))
        #expect(message.procedureOccurrenceID == 7)
        #expect(message.projectName == "proj")
        #expect(message.extractGeneratedTimestamp.description == "2024-01-02T03:04:05+00:00")
    }

    @Test func plainFormSeriesUIDIsOptional() throws {
        #expect(try MessageDecoder.decode(Self.plainBody(["series_uid": nil])).seriesUID == "")
        #expect(try MessageDecoder.decode(Self.plainBody(["series_uid": "null"])).seriesUID == "")
    }

    @Test func priorityIsOptionalFromOneToFive() throws {
        #expect(try MessageDecoder.decode(Self.plainBody()).priority == 1)
        let urgent = try MessageDecoder.decode(Self.plainBody(["priority": "5"]))
        #expect(urgent.priority == 5)
        #expect(try MessageDecoder.decode(Array(urgent.plainJSON().utf8)) == urgent)
        #expect(!(try MessageDecoder.decode(Self.plainBody())).plainJSON().contains("priority"))
        for (value, problem) in [
            ("0", MessageDecodingError.Problem.invalidValue("not from 1 to 5")), ("6", .invalidValue("not from 1 to 5")),
            ("\"5\"", .wrongType(expected: "an integer")), ("2.5", .wrongType(expected: "an integer")),
        ] {
            #expect(Self.error(decoding: Self.plainBody(["priority": value])) == MessageDecodingError(field: "priority", problem: problem), "\(value)")
        }
    }

    @Test func plainFormTimestampWithoutOffsetIsNaive() throws {
        let message = try MessageDecoder.decode(Self.plainBody(["extract_generated_timestamp": "\"2024-01-02T03:04:05.5\""]))
        #expect(message.extractGeneratedTimestamp.description == "2024-01-02T03:04:05.500000")
        #expect(message.extractGeneratedTimestamp.utcOffsetSeconds == nil)
    }

    @Test func plainFormIntegersKeepFullPrecision() throws {
        #expect(try MessageDecoder.decode(Self.plainBody(["procedure_occurrence_id": "9223372036854775807"])).procedureOccurrenceID == .max)
        #expect(try MessageDecoder.decode(Self.plainBody(["procedure_occurrence_id": "-9223372036854775808"])).procedureOccurrenceID == .min)
        #expect(Self.error(decoding: Self.plainBody(["procedure_occurrence_id": "9223372036854775808"]))
            == MessageDecodingError(field: "procedure_occurrence_id", problem: .invalidValue("beyond the 64-bit integer range")))
    }

    @Test(arguments: [
        ("procedure_occurrence_id", "\"7\""), ("procedure_occurrence_id", "7.0"), ("procedure_occurrence_id", "7e0"),
        ("procedure_occurrence_id", "true"), ("study_date", "20240102"), ("extract_generated_timestamp", "1704164645"),
        ("mrn", "[]"), ("project_name", "null"), ("study_date", "{\"py/object\": \"datetime.date\"}"),
    ])
    func plainFormRefusesWrongTypes(field: String, value: String) {
        let error = Self.error(decoding: Self.plainBody([field: value]))
        #expect(error?.field == field)
        guard case .wrongType? = error?.problem else {
            Issue.record("\(String(describing: error))")
            return
        }
    }

    @Test(arguments: [("study_date", "\"2024-02-30\""), ("study_date", "\"2024-1-2\""), ("extract_generated_timestamp", "\"yesterday\"")])
    func plainFormRefusesInvalidValues(field: String, value: String) {
        let error = Self.error(decoding: Self.plainBody([field: value]))
        #expect(error?.field == field)
        guard case .invalidValue? = error?.problem else {
            Issue.record("\(String(describing: error))")
            return
        }
    }

    @Test func missingAndUnknownFieldsAreRefused() {
        #expect(Self.error(decoding: Self.plainBody(["study_date": nil])) == MessageDecodingError(field: "study_date", problem: .missing))
        #expect(Self.error(decoding: Self.plainBody(["extra": "1"])) == MessageDecodingError(field: nil, problem: .unexpectedField))
        #expect(Self.error(decoding: Self.plainBody(["mrn": "\"1\", \"mrn\": \"2\""]))
            == MessageDecodingError(field: "mrn", problem: .duplicateField))
    }

    /// An unknown key or a pickled class name is chosen by the sender and could be an identifier (an MRN as a key,
    /// a name as a class): the error names neither, however name-like, only the problem in fixed words.
    @Test(arguments: ["extra", "MRN40800000", "Jane_Doe", "40800000", "Jane Doe", "patient.identifier"])
    func keysAndPickledNamesFromTheBodyAreNeverRepeated(name: String) {
        let unknownKey = Self.error(decoding: Self.plainBody([name: "1"]))
        #expect(unknownKey == MessageDecodingError(field: nil, problem: .unexpectedField))
        #expect(unknownKey?.description == "message holds a key that is not a message field")
        let pickledClass = Array(#"{"py/object": "\#(name)", "mrn": "x"}"#.utf8)
        #expect(Self.error(decoding: pickledClass)?.description == "message holds an unsupported pickled object")
        let pickledFunction = Array(#"{"py/reduce": [{"py/function": "\#(name)"}, {"py/tuple": ["x"]}]}"#.utf8)
        #expect(Self.error(decoding: pickledFunction) == MessageDecodingError(field: nil, problem: .unsupportedObject))
    }

    @Test func unknownPickledNamesAreRefusedNotRun() {
        let body = Array(#"{"py/reduce": [{"py/function": "subprocess.call"}, {"py/tuple": ["x"]}]}"#.utf8)
        #expect(Self.error(decoding: body) == MessageDecodingError(field: nil, problem: .unsupportedObject))
        let inField = Self.plainBody([:]).dropLast() + Array(#", "py/state": {}}"#.utf8)
        #expect(Self.error(decoding: Array(inField)) == MessageDecodingError(field: nil, problem: .unsupportedObject))
    }

    // MARK: NaN

    @Test func nanInAnIdentifierIsEmpty() throws {
        let studyUIDMissing = try MessageDecoder.decode(PixlMessageFixtures.body("019-empty-fields-csv-1"))
        #expect(studyUIDMissing.studyUID == "")
        #expect(studyUIDMissing.mrn == "mrn-empty-uid")
        let mrnMissing = try MessageDecoder.decode(PixlMessageFixtures.body("020-empty-fields-csv-2"))
        #expect(mrnMissing.mrn == "")
        #expect(mrnMissing.studyUID == "1.2.3.99")
        #expect(try MessageDecoder.decode(Self.plainBody(["accession_number": "NaN"])).accessionNumber == "")
    }

    @Test func nanElsewhereIsRefused() {
        for field in ["procedure_occurrence_id", "project_name", "study_date", "extract_generated_timestamp"] {
            let error = Self.error(decoding: Self.plainBody([field: "NaN"]))
            #expect(error?.field == field)
        }
        #expect(Self.error(decoding: Self.plainBody(["mrn": "-NaN"]))?.field == "mrn")
        #expect(Self.error(decoding: Self.plainBody(["mrn": "nan"]))?.field == "mrn")
    }

    // MARK: Validation (SPEC §2)

    @Test(arguments: ["mrn", "accession_number", "study_uid"])
    func wildcardsAreRefused(field: String) {
        for value in ["\"12*\"", "\"?\"", "\"1.2.3*\""] {
            #expect(Self.error(decoding: Self.plainBody([field: value])) == MessageDecodingError(field: field, problem: .wildcard))
        }
    }

    @Test func aMessageMustNameAStudy() throws {
        #expect(Self.error(decoding: Self.plainBody(["study_uid": "\"\"", "mrn": "\"\""]))?.problem == .namesNoStudy)
        #expect(Self.error(decoding: Self.plainBody(["study_uid": "null", "accession_number": "\"  \""]))?.problem == .namesNoStudy)
        // A study UID alone, or MRN and accession number alone, is enough.
        #expect(try MessageDecoder.decode(Self.plainBody(["mrn": "\"\"", "accession_number": "\"\""])).studyUID == "1.2.3")
        #expect(try MessageDecoder.decode(Self.plainBody(["study_uid": "\"\""])).hasPatientIdentifiers)
    }

    @Test func projectNameMustNotBeEmpty() {
        #expect(Self.error(decoding: Self.plainBody(["project_name": "\"\""])) == MessageDecodingError(field: "project_name", problem: .empty))
        #expect(Self.error(decoding: Self.plainBody(["project_name": "\" \\t \""])) == MessageDecodingError(field: "project_name", problem: .empty))
    }

    @Test func identifiersAreTrimmed() throws {
        let message = try MessageDecoder.decode(
            Self.plainBody(["mrn": "\" 123\\t\"", "accession_number": "\"\\nA1 \"", "study_uid": "\" 1.2.3 \"", "project_name": "\" proj \""]))
        #expect(message.mrn == "123")
        #expect(message.accessionNumber == "A1")
        #expect(message.studyUID == "1.2.3")
        #expect(message.projectName == "proj")
    }

    @Test func errorDescriptionsNameTheFieldNotTheValue() {
        let error = Self.error(decoding: Self.plainBody(["mrn": "\"secret*\""]))
        #expect(error?.description == "mrn holds a wildcard character (*, ? or \\) and would match more than one study")
    }

    // MARK: Plain JSON encoding

    @Test func plainJSONIsExact() throws {
        let message = try MessageDecoder.decode(Self.plainBody([:]))
        #expect(message.plainJSON() == #"{"mrn":"123","accession_number":"A1","study_uid":"1.2.3","series_uid":"","study_date":"2024-01-02","#
            + #""procedure_occurrence_id":7,"project_name":"proj","extract_generated_timestamp":"2024-01-02T03:04:05+00:00"}"#)
    }

    @Test(arguments: PixlMessageFixtures.goodNames.filter { MessageDecoderFixtureTests.refusedByValidation[$0] == nil })
    func fixtureRoundTripsThroughPlainJSON(name: String) throws {
        let message = try MessageDecoder.decode(PixlMessageFixtures.body(name))
        #expect(try MessageDecoder.decode(message.plainJSON().utf8) == message)
    }

    @Test func awkwardValuesRoundTripThroughPlainJSON() throws {
        let timestamps = [
            ExtractTimestamp(date: CalendarDate(year: 1, month: 1, day: 1)!),
            ExtractTimestamp(date: CalendarDate(year: 9999, month: 12, day: 31)!, hour: 23, minute: 59, second: 59, nanosecond: 999_999_999),
            ExtractTimestamp(date: CalendarDate(year: 2024, month: 2, day: 29)!, hour: 1, nanosecond: 1000, utcOffsetSeconds: -(5 * 3600 + 30 * 60)),
            ExtractTimestamp(date: CalendarDate(year: 2024, month: 2, day: 29)!, utcOffsetSeconds: 3600 + 61),
        ]
        for timestamp in timestamps {
            let message = ImagingMessage(
                mrn: "quote\" slash/ \u{1} 北京 😀", accessionNumber: "é\u{301}", studyUID: "", seriesUID: "1.2\\3.4",
                studyDate: CalendarDate(year: 1677, month: 9, day: 22)!, procedureOccurrenceID: .min, projectName: "p\n\u{7F}\u{2028}x",
                extractGeneratedTimestamp: try #require(timestamp))
            // These values break the query-key rules on purpose: what is tested is the encoding alone.
            let decoded = try MessageDecoder.decodeWithoutValidation(message.plainJSON().utf8)
            #expect(decoded == message)
            #expect(decoded.mrn.unicodeScalars.elementsEqual(message.mrn.unicodeScalars))
        }
    }
}
