import Foundation
import PixlCore
import PixlOrthanc
import Testing

/// ``HTTPOrthancClient`` over HTTP against answers recorded from the lab's Orthanc 1.10.1: what it
/// sends (levels, `Normalize: false`, asynchronous retrieves) and what it reads from each answer.
struct HTTPOrthancClientTests {
    static let studyUID = "2.25.424200021000000"

    /// A server answering the query creation and, for that query, `answers`.
    static func queryServer(modality: String = "UCPRIMARYQR", answers: String) throws -> (RecordedOrthanc, String) {
        var server = RecordedOrthanc()
        let id = try RecordedOrthanc.recordedID("query-created")
        try server.answer("POST", "/modalities/\(modality)/query", recorded: "query-created")
        try server.answer("GET", "/queries/\(id)/answers", recorded: answers)
        try server.answer("GET", "/queries/\(id)/answers?expand&short", recorded: answers)
        return (server, id)
    }

    @Test func studyQueryReadsKeysAndAvailability() async throws {
        let (server, id) = try Self.queryServer(answers: "answers-study-vna")
        let keys = ["StudyInstanceUID": Self.studyUID, "InstanceAvailability": ""]
        let (result, requests) = try await server.serve { try await $0.query(.study, modality: "UCPRIMARYQR", keys: keys) }
        #expect(result.id == id && result.level == .study)
        #expect(
            result.answers == [
                QueryAnswer(
                    index: 0, studyInstanceUID: Self.studyUID, patientID: "LAB-MRN-0002", accessionNumber: "LAB-ACC-0002", instanceAvailability: "ONLINE"
                )
            ]
        )
        // One POST, then every answer in one GET (not one GET per answer).
        #expect(requests.map { "\($0.method) \($0.target)" } == ["POST /modalities/UCPRIMARYQR/query", "GET /queries/\(id)/answers?expand&short"])
        #expect(requests[0].json["Level"] as? String == "Study")
        #expect(requests[0].json["Normalize"] as? Bool == false)
        #expect(requests[0].json["Query"] as? [String: String] == keys)
        #expect(requests[0].authorization == "Basic b3J0aGFuYzpvcnRoYW5j")
    }

    @Test func seriesQueryReadsTheCountsOrthancGives() async throws {
        let (server, _) = try Self.queryServer(answers: "answers-series-vna")
        let (result, requests) = try await server.serve { try await $0.query(.series, modality: "UCPRIMARYQR", keys: ["StudyInstanceUID": Self.studyUID]) }
        #expect(requests[0].json["Level"] as? String == "Series")
        #expect(result.answers.map(\.index) == [0, 1, 2])
        #expect(Set(result.answers.compactMap(\.seriesInstanceUID)) == ["2.25.424200022010000", "2.25.424200022020000", "2.25.424200022030000"])
        #expect(result.answers.allSatisfy { $0.numberOfSeriesRelatedInstances == 2 && $0.studyInstanceUID == Self.studyUID && $0.modality == "OT" })
    }

    /// dcmqrscp answers at series level without NumberOfSeriesRelatedInstances (measured).
    @Test func seriesQueryOfDcmqrscpHasNoCounts() async throws {
        let (server, _) = try Self.queryServer(modality: "UCSECONDARYQR2", answers: "answers-series-dcmqrscp")
        let (result, _) = try await server.serve { try await $0.query(.series, modality: "UCSECONDARYQR2", keys: [:]) }
        #expect(result.answers.count == 2)
        #expect(result.answers.allSatisfy { $0.numberOfSeriesRelatedInstances == nil && $0.seriesInstanceUID != nil })
    }

    @Test func instanceQueryReadsSOPInstanceUIDs() async throws {
        let (server, _) = try Self.queryServer(answers: "answers-instance-vna")
        let (result, requests) = try await server.serve { try await $0.query(.instance, modality: "UCPRIMARYQR", keys: [:]) }
        #expect(requests[0].json["Level"] as? String == "Instance")
        #expect(result.answers.compactMap(\.sopInstanceUID) == ["2.25.424200023020001", "2.25.424200023020002"])
        #expect(result.answers.allSatisfy { $0.seriesInstanceUID == "2.25.424200022020000" })
    }

    @Test func retrievesAreAsynchronousAndReturnTheJob() async throws {
        var server = RecordedOrthanc()
        try server.answer("POST", "/queries/q-1/retrieve", recorded: "retrieve-created")
        try server.answer("POST", "/queries/q-1/answers/3/retrieve", recorded: "retrieve-answer-created")
        let ((all, one), requests) = try await server.serve { client in
            (try await client.retrieve(queryID: "q-1", targetAET: "ORTHANCRAW"), try await client.retrieve(queryID: "q-1", answer: 3, targetAET: "ORTHANCRAW"))
        }
        #expect(all == (try RecordedOrthanc.recordedID("retrieve-created")))
        #expect(one == (try RecordedOrthanc.recordedID("retrieve-answer-created")))
        for request in requests {
            #expect(request.json["TargetAet"] as? String == "ORTHANCRAW")
            #expect(request.json["Synchronous"] as? Bool == false)
        }
    }

    @Test(arguments: [
        ("job-success", OrthancJob.State.success, nil as String?),
        ("job-failure-dimse", .failure, "C-MOVE SCU to AET \"VNAQR\" has failed with DIMSE status 0xC000 (unable to process - resource not found ?)"),
        ("job-failure-network", .failure, "DicomAssociation - connecting to AET \"VNAQR\": TCP Initialization Error: Connection refused"),
    ])
    func jobsReadStateAndErrorDetails(name: String, state: OrthancJob.State, details: String?) async throws {
        var server = RecordedOrthanc()
        try server.answer("GET", "/jobs/j-1", recorded: name)
        let (job, _) = try await server.serve { try await $0.job(id: "j-1") }
        #expect(job?.state == state)
        #expect(job?.errorDetails == details || (details == nil && job?.errorDetails == ""))
    }

    /// A job evicted from Orthanc's history answers 404 with an empty body (measured): `nil`, not an error.
    @Test func evictedJobIsNil() async throws {
        let (job, _) = try await RecordedOrthanc().serve { try await $0.job(id: "00000000-0000-0000-0000-000000000000") }
        #expect(job == nil)
    }

    @Test func findStudiesReadsTheIdentifiersToCheck() async throws {
        var server = RecordedOrthanc()
        try server.answer("POST", "/tools/find", recorded: "tools-find-study")
        let (studies, requests) = try await server.serve { try await $0.findStudies(matching: ["StudyInstanceUID": Self.studyUID]) }
        #expect(
            studies == [
                OrthancStudy(
                    id: "1702dc14-f599a502-4756e386-a8fef0b0-26626c13", studyInstanceUID: Self.studyUID, patientID: "LAB-MRN-0002",
                    accessionNumber: "LAB-ACC-0002"
                )
            ]
        )
        #expect(requests[0].json["Expand"] as? Bool == true)
    }

    @Test func localInventoryCountsInstancesPerSeriesInOneCall() async throws {
        var server = RecordedOrthanc()
        try server.answer("GET", "/studies/s-1/series?expand", recorded: "study-series")
        try server.answer("GET", "/series/x-1/instances", recorded: "series-instances")
        let ((series, instances), requests) = try await server.serve { client in
            (try await client.localSeries(ofStudy: "s-1"), try await client.localInstanceUIDs(ofSeries: "x-1"))
        }
        #expect(series.count == 3 && series.allSatisfy { $0.instanceCount == 2 })
        #expect(series.first == LocalSeries(id: "456401cc-b731df78-2ec78ed2-4cfb15fc-55af0a90", seriesInstanceUID: "2.25.424200022030000", instanceCount: 2))
        #expect(Set(instances) == ["2.25.424200023030001", "2.25.424200023030002"])
        #expect(requests.count == 2)
    }

    @Test func seriesTagIsReadAndSeriesModifiedAsynchronously() async throws {
        var server = RecordedOrthanc()
        server.answer("GET", "/series/x-1/shared-tags?short", body: #"{"000d,1001": "myproject ", "0020,000e": "1.2"}"#)
        server.answer("GET", "/series/x-2/shared-tags?short", body: #"{"0020,000e": "1.3"}"#)
        try server.answer("POST", "/series/x-1/modify", recorded: "retrieve-created")
        let ((tagged, untagged, job), requests) = try await server.serve { client in
            (
                try await client.projectName(ofSeries: "x-1"), try await client.projectName(ofSeries: "x-2"),
                try await client.modifySeries(id: "x-1", body: .tagProject("myproject"))
            )
        }
        #expect(tagged == "myproject" && untagged == nil)
        #expect(job == (try RecordedOrthanc.recordedID("retrieve-created")))
        let body = try #require(requests.last?.json)
        #expect(body["Asynchronous"] as? Bool == true && body["Force"] as? Bool == true)
        #expect(body["Keep"] as? [String] == ["StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"])
        #expect(body["Replace"] as? [String: String] == ["000d,0010": "UCLH PIXL", "000d,1001": "myproject"])
    }
}
