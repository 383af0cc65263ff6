import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import PixlCore
import Testing

@testable import PixlAPI

/// `POST /messages` bodies, one parse each: Python's reading of the whole, a message's strictness for each item.
struct MessageBatchTests {
    /// PIXL's wire form, as its CLI publishes it (`pixl-messages` fixtures 102 and 019: a NaN study UID).
    static let wireForm = #"""
        {"py/object": "core.patient_queue.message.Message", "mrn": "987654321", "accession_number": "AA12345601", \#
        "study_uid": "1.3.6.1.4.1.14519.5.2.1.99.1071.12985477682660597455732044031486", "study_date": {"py/object": "datetime.datetime", \#
        "__reduce__": [{"py/type": "datetime.datetime"}, ["BNIBAQEXLQAAAA==", {"py/reduce": [{"py/type": "datetime.timezone"}, \#
        {"py/tuple": [{"py/reduce": [{"py/type": "datetime.timedelta"}, {"py/tuple": [0, 0, 0]}]}]}]}]]}, "procedure_occurrence_id": 234, \#
        "project_name": "test project", "extract_generated_timestamp": {"py/object": "datetime.datetime", \#
        "__reduce__": [{"py/type": "datetime.datetime"}, ["BNIBAQAAAAAAAA=="]]}}
        """#
    static let wireFormWithNaN = #"""
        {"py/object": "core.patient_queue.message.Message", "mrn": "mrn-empty-uid", "accession_number": "ACC0001", "study_uid": NaN, \#
        "study_date": {"py/object": "datetime.date", "__reduce__": [{"py/type": "datetime.date"}, ["B+gCHA=="]]}, \#
        "procedure_occurrence_id": 10, "project_name": "empty-uid-project", \#
        "extract_generated_timestamp": {"py/object": "datetime.datetime", "__reduce__": [{"py/type": "datetime.datetime"}, \#
        ["B+gCHQwAAAAAAA==", {"py/reduce": [{"py/type": "datetime.timezone"}, \#
        {"py/tuple": [{"py/reduce": [{"py/type": "datetime.timedelta"}, {"py/tuple": [0, 0, 0]}]}]}]}]]}}
        """#

    /// The status and body answered for the error `MessageBatch.decode` throws; `nil` when it decodes.
    static func detail(_ body: String, maxBatchSize: Int = 10) -> String? {
        detail(Array(body.utf8), maxBatchSize: maxBatchSize)
    }

    static func detail(_ body: [UInt8], maxBatchSize: Int = 10) -> String? {
        do {
            _ = try MessageBatch.decode(body, maxBatchSize: maxBatchSize)
            return nil
        } catch {
            return "\(error.status.code) \(JSONValue.object(["detail": error.detail]).serialized())"
        }
    }

    @Test func bothEncodingsAndMixedBatchesDecodeAsAlone() throws {
        let plain = APITestSupport.message()
        for body in [Self.wireForm, Self.wireFormWithNaN, plain] {
            #expect(try MessageBatch.decode(Array(body.utf8), maxBatchSize: 1) == [try MessageDecoder.decode(Array(body.utf8))])
        }
        let mixed = "[\(Self.wireForm),\n \(plain), \(Self.wireFormWithNaN)]"
        let messages = try MessageBatch.decode(Array(mixed.utf8), maxBatchSize: 3)
        #expect(messages.map(\.mrn) == ["987654321", "MRN1", "mrn-empty-uid"])
        #expect(messages.last?.studyUID == "")
    }

    /// Each message is held to what a message must be; every bad one is listed, none is repeated from the body.
    @Test func everyBadMessageIsNamedWithItsField() throws {
        let good = APITestSupport.message()
        let duplicate = good.replacingOccurrences(of: "{", with: #"{"mrn":"0","#)
        let surrogate = APITestSupport.message(mrn: #"\udc00"#)
        let infinity = good.replacingOccurrences(of: #""procedure_occurrence_id":4"#, with: #""procedure_occurrence_id":Infinity"#)
        let wireForm = Self.wireForm.replacingOccurrences(of: "987654321", with: #"\ud800"#)
        let infinityOffset = try #require(Array(infinity.utf8).firstIndex(of: UInt8(ascii: "I")))
        let surrogateOffset = try #require(Array(wireForm.utf8).firstIndex(of: UInt8(ascii: "\\")))
        let body = "[\(good), \(duplicate), \(surrogate), \(good), \(infinity), \(wireForm)]"
        #expect(
            Self.detail(body) == "422 " + #"{"detail":[{"loc":["body",1,"mrn"],"index":1,"field":"mrn","#
                + #""msg":"message 1: mrn appears more than once"},"#
                + #"{"loc":["body",2,"mrn"],"index":2,"field":"mrn","#
                + #""msg":"message 2: mrn is not valid JSON: unpaired UTF-16 surrogate escape at byte 8"},"#
                + #"{"loc":["body",4,"procedure_occurrence_id"],"index":4,"field":"procedure_occurrence_id","#
                + #""msg":"message 4: procedure_occurrence_id is not valid JSON: Infinity is not a number at byte \#(infinityOffset)"},"#
                + #"{"loc":["body",5,"mrn"],"index":5,"field":"mrn","#
                + #""msg":"message 5: mrn is not valid JSON: unpaired UTF-16 surrogate escape at byte \#(surrogateOffset)"}]}"#
        )
    }

    /// A byte order mark is skipped before an array, as Python does, but refused before a single message, as alone.
    @Test func aByteOrderMarkIsRefusedOnlyBeforeASingleMessage() throws {
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        #expect(try MessageBatch.decode(bom + Array("[\(APITestSupport.message())]".utf8), maxBatchSize: 1).count == 1)
        #expect(
            Self.detail(bom + Array(APITestSupport.message().utf8))
                == "422 " + #"{"detail":[{"loc":["body"],"index":null,"field":null,"#
                + #""msg":"message is not valid JSON: the body starts with a UTF-8 byte order mark at byte 0"}]}"#
        )
    }

    @Test func bodiesThatAreNotBatchesGetTheirOwnAnswers() {
        #expect(Self.detail(#"{"mrn": "é" x}"#) == #"400 {"detail":"The body is not valid JSON: Expecting ',' delimiter at character 12"}"#)
        #expect(Self.detail([0x22, 0xFF, 0x22]) == #"400 {"detail":"The body is not valid JSON: Invalid UTF-8 at character 0"}"#)
        #expect(
            Self.detail("[" + String(repeating: "[", count: 40) + String(repeating: "]", count: 41))
                == "422 " + #"{"detail":[{"loc":["body",0],"index":0,"field":null,"#
                + #""msg":"message 0: message is not valid JSON: nesting deeper than 32 levels at byte 32"}]}"#
        )
        #expect(
            Self.detail("[NaN]") == "422 " + #"{"detail":[{"loc":["body",0],"index":0,"field":null,"#
                + #""msg":"message 0: message is not a message: the body is null, not an object"}]}"#
        )
        #expect(Self.detail("NaN") == #"422 {"detail":"The body must be a message object or an array of message objects"}"#)
        #expect(Self.detail("[\(APITestSupport.message()), 1]", maxBatchSize: 1) == #"413 {"detail":"At most 1 messages per request (had 2)"}"#)
    }

    @Test func postingPIXLsWireFormCreatesTheJobs() async throws {
        let app = try APITestSupport.makeApplication()
        try await app.test(.router) { client in
            let body = ByteBuffer(string: "[\(Self.wireForm), \(APITestSupport.message())]")
            let response = try await client.execute(uri: "/messages", method: .post, headers: [.contentType: "application/json"], body: body)
            #expect(response.status == .accepted, "\(String(buffer: response.body))")
            let jobs = try APITestSupport.object(String(buffer: response.body))["jobs"] as? [[String: Any]]
            #expect(jobs?.count == 2)
            let single = try await client.execute(uri: "/messages", method: .post, body: ByteBuffer(string: Self.wireFormWithNaN))
            #expect(single.status == .accepted, "\(String(buffer: single.body))")
        }
    }
}
