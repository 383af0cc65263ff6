import Testing

@testable import PixlCore

/// SPEC §2: every identifier must reach the archive exactly as written. orthanc-raw drops characters
/// outside its query encoding, and a key made only of them becomes empty: a wildcard that matched every
/// study of the lab's VNA (`study_uid "中"`). Such messages are refused, naming the field, never the value.
struct SafeQueryKeyTests {
    typealias Tests = MessageDecoderTests

    /// JSON string literals of values that vanish (or change) in orthanc-raw's query encoding.
    static let vanishing = [
        #""中""#, #""\ud83d\ude00""#, #""\u0000""#, #""\u200b""#, #""\uff0a""#, #""\u200b\u200b""#, #""A\u0001""#, #""é""#,
    ]

    @Test(arguments: vanishing)
    func studyUIDThatWouldVanishIsRefused(value: String) throws {
        let error = try #require(Tests.error(decoding: Tests.plainBody(["study_uid": value])))
        #expect(error == MessageDecodingError(field: "study_uid", problem: .notAUID))
        #expect(error.description.hasPrefix("study_uid must be a DICOM UID"))
    }

    @Test(arguments: ["mrn", "accession_number"], vanishing)
    func identifierThatWouldVanishIsRefused(field: String, value: String) throws {
        // Without a study UID the identifiers are the only keys: the case that pulled a whole archive.
        let error = try #require(Tests.error(decoding: Tests.plainBody([field: value, "study_uid": #""""#])))
        #expect(error == MessageDecodingError(field: field, problem: .notPrintableASCII))
        #expect(!error.description.contains("中") && !error.description.contains("\u{200B}"))
    }

    @Test(arguments: ["1.2.3", "0", "0.1", "1.0.3", "2.25.424200011000000", String(repeating: "1.", count: 31) + "12"])
    func validUIDsAreKept(uid: String) throws {
        #expect(DicomValue.isUID(uid))
        #expect(try MessageDecoder.decode(Tests.plainBody(["study_uid": "\"\(uid)\""])).studyUID == uid)
    }

    @Test(arguments: ["1..2", ".1", "1.", "01.2", "1.02", "1.2a", "1.2 3", "1,2", "-1"])
    func invalidUIDsAreRefused(uid: String) {
        #expect(!DicomValue.isUID(uid))
        #expect(Tests.error(decoding: Tests.plainBody(["study_uid": "\"\(uid)\""])) == MessageDecodingError(field: "study_uid", problem: .notAUID))
    }

    @Test func uidOver64CharactersIsRefused() {
        let uid = String(repeating: "1.", count: 32) + "1"
        #expect(!DicomValue.isUID(uid))
        #expect(Tests.error(decoding: Tests.plainBody(["study_uid": "\"\(uid)\""])) == MessageDecodingError(field: "study_uid", problem: .tooLong(maximum: 64)))
    }

    @Test func seriesUIDsAreEachAValidUID() throws {
        let message = try MessageDecoder.decode(Tests.plainBody(["series_uid": #""1.2.3.4\\1.2.3.5\\1.2.3.4""#]))
        #expect(message.requestedSeriesUIDs == ["1.2.3.4", "1.2.3.5"])
        for value in [#""1.2\\""#, #""\\1.2""#, #""1.2\\\\3.4""#, #""1.2\\01""#, #""中""#, #""1.2\\\u200b""#] {
            #expect(Tests.error(decoding: Tests.plainBody(["series_uid": value])) == MessageDecodingError(field: "series_uid", problem: .notUIDs))
        }
        #expect(Tests.error(decoding: Tests.plainBody(["series_uid": #""1.2\\3*""#])) == MessageDecodingError(field: "series_uid", problem: .wildcard))
    }

    @Test func identifiersKeepTheirDICOMLengths() throws {
        let mrn = String(repeating: "M", count: 64)
        let accession = String(repeating: "A", count: 16)
        let message = try MessageDecoder.decode(Tests.plainBody(["mrn": "\"\(mrn)\"", "accession_number": "\"\(accession)\""]))
        #expect(message.mrn == mrn && message.accessionNumber == accession)
        #expect(Tests.error(decoding: Tests.plainBody(["mrn": "\"\(mrn)M\""])) == MessageDecodingError(field: "mrn", problem: .tooLong(maximum: 64)))
        #expect(
            Tests.error(decoding: Tests.plainBody(["accession_number": "\"\(accession)A\""]))
                == MessageDecodingError(field: "accession_number", problem: .tooLong(maximum: 16))
        )
    }

    @Test func printableASCIIWithInnerSpacesAndPunctuationIsKept() throws {
        let message = try MessageDecoder.decode(Tests.plainBody(["mrn": #""AB 12/3-x""#, "accession_number": #"" (A.1) ""#]))
        #expect(message.mrn == "AB 12/3-x")
        #expect(message.accessionNumber == "(A.1)")
    }

    @Test func answersAreComparedWithoutTheirPadding() {
        #expect(DicomValue.equals("ACC-1 ", "ACC-1"))
        #expect(DicomValue.equals("1.2.3\0", "1.2.3"))
        #expect(!DicomValue.equals("acc-1", "ACC-1"))
        #expect(!DicomValue.equals(nil, "ACC-1"))
        #expect(!DicomValue.equals("", "ACC-1"))
    }
}
