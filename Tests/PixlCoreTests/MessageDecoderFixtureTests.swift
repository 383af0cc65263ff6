import Testing

@testable import PixlCore

/// The real PIXL bodies of `Resources/pixl-messages` and the malformed ones in its `bad/`.
struct MessageDecoderFixtureTests {
    /// Good fixtures that ``ImagingMessage/validated()`` refuses although PIXL itself would send them.
    static let refusedByValidation: [String: MessageDecodingError] = [
        // Every string empty: names no study and no project.
        "108-direct-naive-both-min": MessageDecodingError(field: "project_name", problem: .empty),
        // "ACC\\slash": a backslash separates values in a C-FIND key, so it would match a list of studies.
        "021-unicode-csv-1": MessageDecodingError(field: "accession_number", problem: .wildcard),
        // "MRN-Ωμέγα-ñ": characters outside orthanc-raw's query encoding would not reach the archive as
        // written (a key made only of such characters becomes empty: a wildcard), so MRN and accession
        // number must be printable ASCII (SPEC §2). PIXL sends it; we refuse it, naming the field.
        "022-unicode-csv-2": MessageDecodingError(field: "mrn", problem: .notPrintableASCII),
    ]

    @Test func fixturesArePresent() {
        #expect(PixlMessageFixtures.goodNames.count == 46)
        #expect(PixlMessageFixtures.badNames.count == 37)
    }

    @Test(arguments: PixlMessageFixtures.goodNames)
    func goodFixtureDecodesAsPythonDoes(name: String) throws {
        let expected = try PixlMessageFixtures.expected(name)
        let body = try PixlMessageFixtures.body(name)
        let message = try MessageDecoder.decodeWithoutValidation(body)

        #expect(message.mrn == expected.mrn ?? "")
        #expect(message.accessionNumber == expected.accessionNumber ?? "")
        #expect(message.studyUID == expected.studyUID ?? "")
        #expect(message.seriesUID == "")
        #expect(message.studyDate.description == expected.studyDate)
        #expect(message.procedureOccurrenceID == expected.procedureOccurrenceID)
        #expect(message.projectName == expected.projectName ?? "")
        if expected.extractGeneratedTimestamp.count == 10 {
            // 110: the timestamp is a date object; Python prints it without a time, we keep its midnight.
            #expect(message.extractGeneratedTimestamp == ExtractTimestamp(iso: expected.extractGeneratedTimestamp))
            #expect(message.extractGeneratedTimestamp.utcOffsetSeconds == nil)
        } else {
            #expect(message.extractGeneratedTimestamp.description == expected.extractGeneratedTimestamp)
        }

        if let refusal = Self.refusedByValidation[name] {
            #expect(throws: refusal) { try MessageDecoder.decode(body) }
        } else {
            #expect(try MessageDecoder.decode(body) == message.validated())
            #expect(try MessageDecoder.decode(JSONParser.parse(body, options: .message)) == message.validated())
        }
    }

    @Test func paddedIdentifiersAreTrimmed() throws {
        let message = try MessageDecoder.decode(PixlMessageFixtures.body("029-ids-padding-csv-2"))
        #expect(message.mrn == "padded mrn")
        #expect(message.accessionNumber == "ACC-PAD")
        #expect(message.studyUID == "1.2.3.21")
    }

    /// What each bad body must be refused with: the field (nil when the body as a whole is wrong) and the problem.
    static let badExpectations: [String: (field: String?, problem: ProblemKind)] = [
        "001-truncated": (nil, .invalidJSON),
        "002-empty-body": (nil, .invalidJSON),
        "003-not-json": (nil, .invalidJSON),
        "004-trailing-garbage": (nil, .invalidJSON),
        "005-json-array": (nil, .notAMessage),
        "006-json-string": (nil, .notAMessage),
        "007-no-py-object": ("study_date", .wrongType),
        "008-unpicklable-false-form": ("procedure_occurrence_id", .wrongType),
        "009-unknown-py-object-class": (nil, .unsupportedObject),
        "010-missing-mrn": ("mrn", .missing),
        "011-missing-accession-and-uid": ("accession_number", .missing),
        "012-only-py-object": ("mrn", .missing),
        "013-null-fields": ("study_date", .wrongType),
        "014-mrn-is-int": ("mrn", .wrongType),
        "015-mrn-is-object": ("mrn", .wrongType),
        "016-study-date-plain-string": ("study_date", .wrongType),
        "017-procedure-id-float": ("procedure_occurrence_id", .wrongType),
        "018-procedure-id-infinity": ("procedure_occurrence_id", .invalidJSON),
        "019-procedure-id-huge": ("procedure_occurrence_id", .invalidValue),
        "020-date-bad-base64": ("study_date", .invalidValue),
        "021-date-state-5-bytes": ("study_date", .invalidValue),
        "022-date-month-13": ("study_date", .invalidValue),
        "023-datetime-state-7-bytes": ("extract_generated_timestamp", .invalidValue),
        "024-tz-unknown-zone": ("extract_generated_timestamp", .invalidValue),
        "025-dangling-py-id": ("extract_generated_timestamp", .invalidValue),
        "026-py-reduce-os-system-toplevel": (nil, .unsupportedObject),
        "027-py-reduce-os-system-in-field": ("study_date", .unsupportedObject),
        "028-py-object-os-system": (nil, .unsupportedObject),
        "029-py-type-os-system-in-date": ("study_date", .unsupportedObject),
        "030-huge-mrn-1MiB": ("mrn", .invalidJSON),
        "031-project-name-65-chars": ("project_name", .tooLong),
        "032-deep-nesting": (nil, .invalidJSON),
        "033-invalid-utf8": ("mrn", .invalidJSON),
        "034-utf8-bom": (nil, .invalidJSON),
        "035-duplicate-keys": ("mrn", .duplicateField),
        "036-extra-field": (nil, .unexpectedField),
        "037-lone-surrogate": ("mrn", .invalidJSON),
    ]

    enum ProblemKind: Equatable {
        case invalidJSON, notAMessage, missing, unexpectedField, duplicateField, wrongType, invalidValue, tooLong, unsupportedObject

        init(_ problem: MessageDecodingError.Problem) {
            switch problem {
            case .invalidJSON: self = .invalidJSON
            case .notAMessage: self = .notAMessage
            case .missing: self = .missing
            case .unexpectedField: self = .unexpectedField
            case .duplicateField: self = .duplicateField
            case .wrongType: self = .wrongType
            case .invalidValue: self = .invalidValue
            case .tooLong: self = .tooLong
            case .unsupportedObject: self = .unsupportedObject
            case .empty, .wildcard, .namesNoStudy, .notPrintableASCII, .notAUID, .notUIDs: self = .invalidValue
            }
        }
    }

    @Test func everyBadFixtureHasAnExpectation() {
        #expect(Set(PixlMessageFixtures.badNames) == Set(Self.badExpectations.keys))
    }

    @Test(arguments: PixlMessageFixtures.badNames)
    func badFixtureIsRefused(name: String) throws {
        let expectation = try #require(Self.badExpectations[name])
        let body = try PixlMessageFixtures.badBody(name)
        let error = try #require(throws: MessageDecodingError.self) { try MessageDecoder.decode(body) }
        #expect(error.field == expectation.field, "\(error)")
        #expect(ProblemKind(error.problem) == expectation.problem, "\(error)")
        // Neither the identifiers in these bodies nor their unknown keys or pickled names reach the description.
        for identifier in ["patient_identifier", "123456789", "first", "second", "AAAA", "evil_extra", "os.system", "NotAMessage"] {
            #expect(!error.description.contains(identifier), "\(error)")
        }
    }

    @Test func parserErrorsGiveReasonAndOffset() throws {
        let bom = try #require(throws: MessageDecodingError.self) { try MessageDecoder.decode(PixlMessageFixtures.badBody("034-utf8-bom")) }
        #expect(bom.problem == .invalidJSON(reason: "the body starts with a UTF-8 byte order mark", offset: 0))
        let utf8 = try #require(throws: MessageDecodingError.self) { try MessageDecoder.decode(PixlMessageFixtures.badBody("033-invalid-utf8")) }
        #expect(utf8.problem == .invalidJSON(reason: "invalid UTF-8", offset: 68))
        #expect(utf8.description == "mrn is not valid JSON: invalid UTF-8 at byte 68")
    }
}
