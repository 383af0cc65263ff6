import Foundation
import HTTPTypes
import PixlCore
import PixlOrthanc
import Testing

/// Every value from Orthanc is checked and bounded before use: an answer that is not what Orthanc
/// documents is a clear ``OrthancError``, never a crash, and a value out of bounds is not believed.
struct HTTPOrthancClientBoundsTests {
    /// A server whose query creation is recorded and whose answers are `answers`.
    static func queryServer(answers: String) throws -> RecordedOrthanc {
        var server = RecordedOrthanc()
        let id = try RecordedOrthanc.recordedID("query-created")
        try server.answer("POST", "/modalities/M/query", recorded: "query-created")
        server.answer("GET", "/queries/\(id)/answers?expand&short", body: answers)
        return server
    }

    @Test(arguments: ["\"2\"", "\"2 \"", "\"0\""])
    func countsWithinBoundsAreRead(value: String) async throws {
        let server = try Self.queryServer(answers: #"[{"0020,000e": "1.2", "0020,1209": \#(value)}]"#)
        let (result, _) = try await server.serve { try await $0.query(.series, modality: "M", keys: [:]) }
        #expect(result.answers.first?.numberOfSeriesRelatedInstances == Int(value.filter(\.isNumber)))
    }

    @Test(arguments: ["\"\"", "\"-1\"", "\"abc\"", "\"1e3\"", "\"99999999999\"", "\"2000000\"", "2", "null", "[\"2\"]"])
    func countsOutOfBoundsAreNoCount(value: String) async throws {
        let server = try Self.queryServer(answers: #"[{"0020,000e": "1.2", "0020,1209": \#(value)}]"#)
        let (result, _) = try await server.serve { try await $0.query(.series, modality: "M", keys: [:]) }
        #expect(result.answers.count == 1)
        #expect(result.answers.first?.numberOfSeriesRelatedInstances == nil)
    }

    @Test func overlongValuesAreIgnored() async throws {
        let long = String(repeating: "1", count: 2000)
        let server = try Self.queryServer(answers: #"[{"0020,000d": "\#(long)", "0010,0020": "P"}]"#)
        let (result, _) = try await server.serve { try await $0.query(.study, modality: "M", keys: [:]) }
        #expect(result.answers.first?.studyInstanceUID == nil)
        #expect(result.answers.first?.patientID == "P")
    }

    @Test(arguments: ["{", "{}", "[1]", "\"text\""])
    func malformedAnswersAreBadResponses(body: String) async throws {
        let server = try Self.queryServer(answers: body)
        await #expect {
            _ = try await server.serve { try await $0.query(.study, modality: "M", keys: [:]) }
        } throws: { error in
            (error as? OrthancError)?.code == .badResponse
        }
    }

    /// An id from Orthanc goes into later paths: one that is not an Orthanc id is refused.
    @Test(arguments: ["../../tools/reset", "", "a b", String(repeating: "a", count: 129)])
    func idsThatAreNotOrthancIdsAreRefused(id: String) async throws {
        var server = RecordedOrthanc()
        let body = String(data: try JSONSerialization.data(withJSONObject: ["ID": id]), encoding: .utf8)!
        server.answer("POST", "/modalities/M/query", body: body)
        server.answer("POST", "/queries/q/retrieve", body: body)
        await #expect {
            _ = try await server.serve { try await $0.query(.study, modality: "M", keys: [:]) }
        } throws: { ($0 as? OrthancError)?.code == .badResponse }
        await #expect {
            _ = try await server.serve { try await $0.retrieve(queryID: "q", targetAET: "RAW") }
        } throws: { ($0 as? OrthancError)?.code == .badResponse }
    }

    @Test func tooManyAnswersAreRefused() async throws {
        let answers = "[" + Array(repeating: "{}", count: 100_001).joined(separator: ",") + "]"
        let server = try Self.queryServer(answers: answers)
        await #expect {
            _ = try await server.serve { try await $0.query(.instance, modality: "M", keys: [:]) }
        } throws: { ($0 as? OrthancError)?.code == .badResponse }
    }

    @Test func seriesWithoutItsUIDIsABadResponse() async throws {
        var server = RecordedOrthanc()
        server.answer("GET", "/studies/s/series?expand", body: #"[{"ID": "x", "MainDicomTags": {}, "Instances": []}]"#)
        await #expect {
            _ = try await server.serve { try await $0.localSeries(ofStudy: "s") }
        } throws: { ($0 as? OrthancError)?.code == .badResponse }
    }

    @Test func modalityNamesAndIdsArePathEscaped() async throws {
        var server = RecordedOrthanc()
        server.answer("GET", "/series/a%2Fb/instances", body: "[]")
        let (instances, requests) = try await server.serve { try await $0.localInstanceUIDs(ofSeries: "a/b") }
        #expect(instances.isEmpty)
        #expect(requests.map(\.target) == ["/series/a%2Fb/instances"])
    }

    @Test func serverErrorsAreTransient() async throws {
        var server = RecordedOrthanc()
        server.answer("POST", "/modalities/M/query", status: .internalServerError, body: #"{"HttpError": "Internal Server Error"}"#)
        await #expect {
            _ = try await server.serve { try await $0.query(.study, modality: "M", keys: [:]) }
        } throws: { ($0 as? OrthancError)?.isTransient == true }
    }
}
