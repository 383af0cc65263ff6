import Foundation
import PixlTesting
import Testing

extension LabSuites {
    /// `pixl-imaging process FILE` as an operator runs it: the job printed as JSON on standard output, and the exit
    /// status of SPEC §8 (0 succeeded, 3 discarded, 1 invalid, 2 bad configuration).
    @Suite(.serialized, .timeLimit(.minutes(2)))
    struct ProcessCommandLabTests {
        let lab: Lab
        let directory: URL

        init() throws {
            lab = try Lab.current()
            try lab.reset()
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("pixl-process-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }

        func process(_ message: [String: Any], _ overrides: [String: String] = [:]) throws -> Lab.ProcessRun {
            try lab.process(message, overrides, in: directory)
        }

        func job(_ output: String) throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any], "\(output)")
        }

        @Test func aStudyPulledAndTaggedExitsZeroPrintingTheJob() async throws {
            let result = try process(try lab.plainMessage("vna-single", project: "process-test"))
            #expect(result.status == 0, "\(result.errors)")
            let job = try job(result.output)
            #expect(job["state"] as? String == "succeeded" && job["archive"] as? String == "primary")
            #expect(job["studies"] as? [String] == [lab.studies["vna-single"]!.orthanc_study_id!])
            let study = try #require(lab.studies["vna-single"])
            #expect(!result.output.contains(study.mrn) && !result.errors.contains(study.mrn), "no MRN printed at INFO")
            let instances = try await lab.rawInstances(study: study.orthanc_study_id!)
            #expect(instances.count == study.instance_count && instances.allSatisfy { $0["project"] == "process-test" })
        }

        @Test func aStudyNoArchiveHoldsExitsThree() throws {
            var message = try lab.plainMessage("vna-single")
            message["study_uid"] = "2.25.999999999999"
            message["mrn"] = "NO-SUCH-MRN"
            let result = try process(message, ["SECONDARY_DICOM_SOURCE_MODALITY": "", "SECONDARY_DICOM_SOURCE_AE_TITLE": ""])
            #expect(result.status == 3, "\(result.errors)")
            #expect(try job(result.output)["state"] as? String == "discarded")
        }

        @Test func anInvalidMessageExitsOneNamingTheField() throws {
            var message = try lab.plainMessage("vna-single")
            message["study_date"] = "yesterday"
            let result = try process(message)
            #expect(result.status == 1)
            #expect(try job(result.output)["detail"] as? String == "invalid message: study_date is invalid: not a YYYY-MM-DD calendar date")
        }

        @Test func aBadSettingExitsTwoWithOneLineNamingIt() throws {
            let result = try process(try lab.plainMessage("vna-single"), ["PIXL_MAX_MESSAGES_IN_FLIGHT": "lots"])
            #expect(result.status == 2)
            let lines = result.errors.split(separator: "\n")
            #expect(lines.count == 1 && lines.first?.contains("PIXL_MAX_MESSAGES_IN_FLIGHT") == true, "\(result.errors)")
            #expect(result.output.isEmpty)
        }
    }
}
