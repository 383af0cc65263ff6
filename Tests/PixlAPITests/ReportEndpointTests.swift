import CSV
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PixlAPI
import PixlCore
import PixlTesting
import Testing

/// `GET /projects/{name}/report` (issue 14): one row per requested study, oldest first across pages, in CSV or JSON,
/// with what the researcher checks an extract against; refused clearly when the project or format is unknown.
struct ReportEndpointTests {
    static let t0 = Date(timeIntervalSince1970: 1_764_000_000)

    /// 2,500 jobs of `audit` (pages of 1,000), some finished, and one job of another project.
    func store() async throws -> (InMemoryJobStore, [Job]) {
        let store = InMemoryJobStore()
        var jobs: [Job] = []
        for batch in 0..<5 {
            let messages = (0..<500).map { ImagingMessage.synthetic(batch * 500 + $0, project: "audit", series: $0 == 1 ? "1.2.3.4\\1.2.3.5" : "") }
            jobs += try await store.enqueue(messages, now: Self.t0 + Double(batch)).map(\.job)
        }
        _ = try await store.enqueue([.synthetic(9999, project: "other")], now: Self.t0)
        let record = StudyRecord(
            orthancID: "raw-1", studyInstanceUID: jobs[0].message.studyUID, archive: .primary, expectedInstances: 4, presentInstances: 4
        )
        let first = try #require(try await store.claimNext(in: .primary, now: Self.t0 + 10, lease: .seconds(60)))
        #expect(first.job.id == jobs[0].id)
        jobs[0] = try await store.record(JobResult(.succeeded(archive: .primary, studies: [record])), for: first, now: Self.t0 + 11)
        let second = try #require(try await store.claimNext(in: .primary, now: Self.t0 + 12, lease: .seconds(60)))
        let partial = StudyRecord(orthancID: "raw-2", studyInstanceUID: "1.2.9", archive: .primary, expectedInstances: 10, presentInstances: 7)
        jobs[1] = try await store.record(
            JobResult(.retry(reason: "7 of 10 instances in orthanc-raw", studies: [partial]), retryAt: Self.t0 + 60), for: second, now: Self.t0 + 13
        )
        return (store, jobs)
    }

    @Test func csvHasOneRowPerRequestedStudyOldestFirst() async throws {
        let (store, jobs) = try await store()
        let app = try APITestSupport.makeApplication(store: store)
        try await app.test(.router) { client in
            let response = try await client.execute(uri: "/projects/audit/report", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/csv; charset=utf-8")
            #expect(response.headers[.contentDisposition] == "attachment; filename=\"audit-report.csv\"")
            let reader = try CSVReader(string: String(buffer: response.body), hasHeaderRow: true)
            #expect(reader.headerRow == ProjectReport.columns)
            var rows: [[String: String]] = []
            while reader.next() != nil {
                rows.append(Dictionary(uniqueKeysWithValues: ProjectReport.columns.map { ($0, reader[$0] ?? "") }))
            }
            #expect(rows.map { $0["job_id"] } == jobs.map { $0.id.uuidString.lowercased() }, "every job once, oldest first, across three pages")
            #expect(rows.allSatisfy { $0["project_name"] == "audit" })
            let done = rows[0]
            #expect(done["mrn"] == jobs[0].message.mrn && done["accession_number"] == jobs[0].message.accessionNumber)
            #expect(done["state"] == "succeeded" && done["archive"] == "primary" && done["orthanc_study_ids"] == "raw-1")
            #expect(done["expected_instances"] == "4" && done["present_instances"] == "4" && done["attempts"] == "1")
            let partial = rows[1]
            #expect(partial["series_uid"] == "1.2.3.4\\1.2.3.5")
            #expect(partial["state"] == "retry" && partial["reason"] == "7 of 10 instances in orthanc-raw")
            #expect(partial["expected_instances"] == "10" && partial["present_instances"] == "7" && partial["next_attempt_at"]?.isEmpty == false)
            #expect(rows[2]["state"] == "queued" && rows[2]["expected_instances"] == "" && rows[2]["started_at"] == "")
        }
    }

    @Test func jsonByAcceptOrFormat() async throws {
        let (store, jobs) = try await store()
        let app = try APITestSupport.makeApplication(store: store)
        try await app.test(.router) { client in
            for (uri, headers) in [("/projects/audit/report", [HTTPField.Name.accept: "application/json"]), ("/projects/audit/report?format=json", [:])] {
                let response = try await client.execute(uri: uri, method: .get, headers: HTTPFields(headers.map { HTTPField(name: $0.key, value: $0.value) }))
                #expect(response.status == .ok && response.headers[.contentType] == "application/json")
                let rows = try #require(try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [[String: Any]])
                #expect(rows.count == jobs.count)
                #expect(Set(rows[0].keys) == Set(ProjectReport.columns + ["studies"]))
                #expect(rows[0]["expected_instances"] as? Int == 4 && rows[0]["orthanc_study_ids"] as? [String] == ["raw-1"])
                #expect(rows[1]["series_uid"] as? [String] == ["1.2.3.4", "1.2.3.5"])
                #expect(rows.last?["job_id"] as? String == jobs.last?.id.uuidString.lowercased())
            }
        }
    }

    @Test(arguments: [
        ("/projects/nobody/report", HTTPResponse.Status.notFound),
        ("/projects/audit/report?format=xml", .unprocessableContent),
        ("/projects/\(String(repeating: "p", count: 65))/report", .unprocessableContent),
    ])
    func refusesAnUnknownProjectOrFormat(uri: String, status: HTTPResponse.Status) async throws {
        let (store, _) = try await store()
        let app = try APITestSupport.makeApplication(store: store)
        try await app.test(.router) { client in
            let response = try await client.execute(uri: uri, method: .get)
            #expect(response.status == status)
            #expect(try APITestSupport.object(String(buffer: response.body))["detail"] is String)
        }
    }

    @Test func aProjectNameIsPercentDecodedAndMadeAFileName() async throws {
        let store = InMemoryJobStore()
        _ = try await store.enqueue([.synthetic(1, project: "lab demo/2026")], now: Self.t0)
        let app = try APITestSupport.makeApplication(store: store)
        try await app.test(.router) { client in
            let response = try await client.execute(uri: "/projects/lab%20demo%2F2026/report", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentDisposition] == "attachment; filename=\"lab_demo_2026-report.csv\"")
            #expect(String(buffer: response.body).split(separator: "\r\n").count == 2)
        }
    }
}
