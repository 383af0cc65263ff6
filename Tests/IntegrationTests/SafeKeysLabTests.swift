import Foundation
import NIOHTTP1
import PixlTesting
import Testing

extension LabSuites {
    /// SPEC §2 at every door of the real binary: identifiers that would vanish in orthanc-raw's query
    /// encoding (and so leave an empty key: the whole VNA) are refused by `POST /messages` (422) and by
    /// `pixl-imaging process` (exit 1), naming the field and never the value, and orthanc-raw sends no
    /// C-FIND and runs no C-MOVE.
    @Suite(.serialized, .timeLimit(.minutes(3)))
    struct SafeKeysLabTests {
        let lab: Lab

        init() throws {
            lab = try Lab.current()
            try lab.reset()
        }

        /// Each body's field at fault and its unsafe values (study_uid "中" matched every study of the VNA).
        func unsafeMessages() throws -> [(field: String, body: [String: Any])] {
            var cases: [(String, [String: Any])] = []
            for value in ["中", "\u{1F600}", "\0", "\u{200B}", "\u{FF0A}"] {
                var uid = try lab.plainMessage("vna-single")
                uid["study_uid"] = value
                cases.append(("study_uid", uid))
                var identifiers = try lab.plainMessage("vna-single")
                identifiers["study_uid"] = ""
                identifiers["mrn"] = value
                identifiers["accession_number"] = value
                cases.append(("mrn", identifiers))
                var accession = try lab.plainMessage("vna-single")
                accession["study_uid"] = ""
                accession["accession_number"] = value
                cases.append(("accession_number", accession))
            }
            return cases
        }

        @Test func httpIntakeAnswers422AndNothingLeavesOrthancRaw() async throws {
            let directory = try ServeProcess.temporaryDirectory()
            let server = try await ServeProcess(
                lab: lab, database: directory.appendingPathComponent("pixl-imaging.sqlite"), directory: directory,
                overrides: ["PIXL_IMAGING_API_RATE": "10"]
            )
            defer { server.kill() }
            let marks = try await lab.marks()
            for (field, body) in try unsafeMessages() {
                let (status, answer) = try await server.request(.POST, "/messages", json: body)
                #expect(status == 422, "\(field): \(answer)")
                let detail = "\(answer)"
                #expect(detail.contains(field), "\(detail)")
                #expect(!detail.contains("中") && !detail.contains("\u{1F600}"), "\(detail)")
            }
            let (_, listing) = try await server.request(.GET, "/messages?limit=100")
            #expect(((listing as? [String: Any])?["jobs"] as? [Any])?.isEmpty == true, "\(listing)")
            #expect(try await lab.sentQueries(since: marks).isEmpty)
            #expect(try await lab.moveJobs(since: marks).isEmpty)
        }

        @Test func processExitsOneNamingTheFieldAndSendsNoQuery() async throws {
            let marks = try await lab.marks()
            let directory = try ServeProcess.temporaryDirectory()
            for (field, body) in try unsafeMessages() {
                let run = try lab.process(body, in: directory)
                #expect(run.status == 1, "\(field): \(run.output)")
                #expect(run.output.contains("invalid message: \(field) "), "\(run.output)")
            }
            #expect(try await lab.sentQueries(since: marks).isEmpty)
            #expect(try await lab.moveJobs(since: marks).isEmpty)
        }
    }
}
