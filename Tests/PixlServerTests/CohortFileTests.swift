import Foundation
import PixlCore
import PixlTesting
@testable import PixlServer
import Testing

struct CohortFileTests {
    private func objects(_ messages: [String]) throws -> [[String: Any]] {
        try messages.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
    }

    @Test func readsPIXLsCSVColumns() throws {
        let csv = #"""
            procedure_id,mrn,accession_number,project_name,extract_generated_timestamp,study_date,study_uid,participant_id
            0,patient_identifier,123456789,ms-pinpoint-test,2023-01-01T00:01:00Z,2022-01-01,1.2.3.4.5.6.7.8,
            1,"mrn, with comma","acc ""quoted""",ms-pinpoint-test,2023-01-01T00:01:00Z,2022-01-02,,P1

            """#
        let messages = try objects(try CohortFile.messages(from: Array(csv.utf8), isCSV: true))
        #expect(messages.count == 2)
        #expect(messages[0]["mrn"] as? String == "patient_identifier")
        #expect(messages[0]["procedure_occurrence_id"] as? Int == 0)
        #expect(messages[0]["study_uid"] as? String == "1.2.3.4.5.6.7.8")
        #expect(messages[0]["study_date"] as? String == "2022-01-01")
        #expect(messages[0]["extract_generated_timestamp"] as? String == "2023-01-01T00:01:00Z")
        #expect(messages[0]["participant_id"] == nil)
        #expect(messages[1]["mrn"] as? String == "mrn, with comma")
        #expect(messages[1]["accession_number"] as? String == "acc \"quoted\"")
        #expect(messages[1]["study_uid"] as? String == "")
    }

    @Test func handlesCRLFBOMMultilineQuotesAndMissingOptionalColumns() throws {
        let csv = "\u{FEFF}mrn,accession_number,project_name,extract_generated_timestamp,study_date,procedure_id\r\n"
            + "\"m\r\n1\",a1,p,2023-01-01T00:00:00Z,2022-01-01,7\r\n"
            + "m2,a2,p,2023-01-01T00:00:00Z,2022-01-01,8"
        let messages = try objects(try CohortFile.messages(from: Array(csv.utf8), isCSV: true))
        #expect(messages.count == 2)
        #expect(messages[0]["mrn"] as? String == "m\r\n1")
        #expect(messages[1]["procedure_occurrence_id"] as? Int == 8)
        #expect(messages[1]["study_uid"] as? String == "")
    }

    @Test func deduplicatesAsPIXLsCLI() throws {
        let csv = """
            procedure_id,mrn,accession_number,project_name,extract_generated_timestamp,study_date
            1,m,a,p,2023-01-01T00:00:00Z,2022-01-01
            2,m,a,p,2023-01-01T00:00:00Z,2022-01-01
            3,m,a,q,2023-01-01T00:00:00Z,2022-01-01
            """
        let messages = try objects(try CohortFile.messages(from: Array(csv.utf8), isCSV: true))
        #expect(messages.map { $0["procedure_occurrence_id"] as? Int } == [1, 3])
    }

    @Test(arguments: [
        ("mrn,accession_number\nm,a\n", "lacks the column(s) procedure_id"),
        ("procedure_id,mrn,accession_number,project_name,extract_generated_timestamp,study_date\nx,m,a,p,t,d\n", "line 2 procedure_id must be an integer"),
        ("procedure_id,mrn,accession_number,project_name,extract_generated_timestamp,study_date\n1,m,a,p\n", "line 2 has 4 fields"),
        ("procedure_id,mrn,accession_number,project_name,extract_generated_timestamp,study_date\n1,\"m,a,p,t,d\n", "unterminated"),
        ("procedure_id,mrn,accession_number,project_name,extract_generated_timestamp,study_date\n1,m\"x,a,p,t,d\n", "quote inside"),
        ("", "is empty"),
    ])
    func refusesMalformedCSVNamingTheLine(csv: String, mention: String) {
        do {
            _ = try CohortFile.messages(from: Array(csv.utf8), isCSV: true)
            Issue.record("accepted \(csv)")
        } catch {
            #expect(error.description.contains(mention), "\(error)")
            // Never quotes cell values.
            #expect(!error.description.contains("\"m"))
        }
    }

    @Test func submitPriorityIsSetOnEveryMessage() throws {
        let csv = "procedure_id,mrn,accession_number,project_name,extract_generated_timestamp,study_date\n1,m,a,p,2024-01-01T00:00:00,2024-01-01\n"
        #expect(try objects(try CohortFile.messages(from: Array(csv.utf8), isCSV: true, priority: 4)).map { $0["priority"] as? Int } == [4])
        #expect(try objects(try CohortFile.messages(from: Array(csv.utf8), isCSV: true)).map { $0["priority"] == nil } == [true])
        // A JSON message keeps its fields; an empty cell written as NaN (PIXL's wire form) stays empty (null).
        let json = #"[{"mrn": NaN, "priority": 1, "project_name": "p"}]"#
        let rewritten = try CohortFile.messages(from: Array(json.utf8), isCSV: false, priority: 2)
        #expect(rewritten == [#"{"mrn":null,"project_name":"p","priority":2}"#])
        #expect(try CohortFile.messages(from: Array(json.utf8), isCSV: false) == [#"{"mrn": NaN, "priority": 1, "project_name": "p"}"#])
    }

    @Test func readsJSONObjectsAndArrays() throws {
        func message(mrn: String) -> String { ImagingMessage.synthetic(1).plainJSON().replacingOccurrences(of: "MRN1", with: mrn) }
        let one = message(mrn: "M1")
        #expect(try CohortFile.messages(from: Array(one.utf8), isCSV: false) == [one])
        let many = "[\(one) , \(message(mrn: "M2"))]"
        let messages = try CohortFile.messages(from: Array(many.utf8), isCSV: false)
        #expect(messages.count == 2)
        #expect(try objects(messages)[1]["mrn"] as? String == "M2")
        #expect(CohortFile.looksLikeJSON(Array("  [".utf8)))
        #expect(!CohortFile.looksLikeJSON(Array("procedure_id,".utf8)))
        #expect(throws: CohortFileError.self) { try CohortFile.messages(from: Array("42".utf8), isCSV: false) }
    }
}
