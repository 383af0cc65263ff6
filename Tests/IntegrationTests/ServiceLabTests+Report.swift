import CSV
import Foundation
import PixlAPI
import PixlTesting
import Testing

/// Issue 14, the reconciliation report: the real `serve` on the lab pulls a small cohort, then
/// `pixl-imaging report --project` writes the list a researcher checks the extract against.
extension LabSuites.ServiceLabTests {
    @Test func reportListsEachRequestedStudyWithWhatOrthancHolds() async throws {
        let project = "report"
        let keys = ["vna-single", "vna-multi", "pacs-nearline"]
        let serve = try await serve(["PIXL_IMAGING_API_RATE": "20"])
        defer { serve.kill() }
        let ids = try await serve.post(messages: try keys.map { try lab.plainMessage($0, project: project) })
        _ = try await serve.waitForJobs(ids)

        let csv = directory.appendingPathComponent("report.csv")
        let run = try report(["--project", project, "--output", csv.path, "--url", serve.baseURL])
        #expect(run.status == 0, "\(run.errors)")
        #expect(!FileManager.default.fileExists(atPath: csv.path + ".partial"))
        let reader = try CSVReader(string: try String(contentsOf: csv, encoding: .utf8), hasHeaderRow: true)
        #expect(reader.headerRow == ProjectReport.columns)
        var rows: [String: [String: String]] = [:]
        while reader.next() != nil {
            let row = Dictionary(uniqueKeysWithValues: ProjectReport.columns.map { ($0, reader[$0] ?? "") })
            rows[row["study_uid"] ?? ""] = row
        }
        #expect(rows.count == keys.count)
        for key in ["vna-single", "vna-multi"] {
            let study = try #require(lab.studies[key])
            let row = try #require(rows[study.study_uid], "\(key)")
            #expect(row["mrn"] == study.mrn && row["accession_number"] == study.accession_number, "\(key)")
            #expect(row["state"] == "succeeded" && row["archive"] == "primary" && row["orthanc_study_ids"] == study.orthanc_study_id, "\(key): \(row)")
            #expect(row["expected_instances"] == "\(study.instance_count)" && row["present_instances"] == "\(study.instance_count)", "\(key)")
        }
        let nearlineStudy = try #require(lab.studies["pacs-nearline"])
        let nearline = try #require(rows[nearlineStudy.study_uid])
        #expect(nearline["state"] == "discarded" && nearline["lane"] == "secondary" && nearline["reason"]?.contains("NEARLINE") == true)

        let json = try report(["--project", project, "--format", "json", "--url", serve.baseURL])
        let objects = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [[String: Any]])
        #expect(Set(objects.compactMap { $0["job_id"] as? String }) == Set(ids))
        let missing = try report(["--project", "nobody", "--output", csv.path, "--url", serve.baseURL])
        #expect(missing.status == 1 && missing.errors.contains("404"))
        #expect(FileManager.default.fileExists(atPath: csv.path), "a refused report leaves the earlier file alone")
        let single = try #require(lab.studies["vna-single"])
        #expect(!serve.logTail(500).contains(single.mrn), "no MRN in the service's log")
    }

    /// Runs `pixl-imaging report` with `arguments`.
    func report(_ arguments: [String]) throws -> Lab.ProcessRun {
        try Lab.pixlImaging(["report"] + arguments)
    }
}
