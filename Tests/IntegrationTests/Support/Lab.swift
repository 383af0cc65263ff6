import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import PixlCore
import PixlImaging
import PixlOrthanc
import PixlTesting
import Testing

/// Every suite that uses the lab, nested here so that they run one at a time: each starts from
/// `scripts/lab reset`, and two at once would empty orthanc-raw under each other (`.serialized`
/// orders only the tests of one suite and the suites nested in it).
@Suite(.serialized, .enabled(if: LiveService.lab.isEnabled, LiveService.lab.skipMessage)) enum LabSuites {}

/// The local lab of real Orthanc servers brought up by `scripts/lab up`: its settings, its seeded
/// studies, and REST helpers to check what really is in orthanc-raw.
struct Lab {
    struct Study: Decodable {
        let mrn: String
        let accession_number: String
        let study_uid: String
        let orthanc_study_id: String?
        let instance_count: Int
        let series_uids: [String]
        let claimed_study_uid: String?
    }

    static let repository = LiveService.repository
    static var directory: URL { LiveService.directory }

    let environment: [String: String]
    let studies: [String: Study]
    let http = Lab.httpClient
    /// Configured as the service's (no response decompression): `HTTPClient.shared` inflates with a 25×
    /// ratio limit that Orthanc's gzipped JSON answers exceed. Lives as long as the test process.
    static let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)

    /// Reads the lab's settings; fails the test with the command to run when the lab is not up.
    static func current() throws -> Lab {
        let environment = try LiveService.lab.settings()
        let manifest = try Data(contentsOf: directory.appendingPathComponent("studies.json"))
        return Lab(environment: environment, studies: try JSONDecoder().decode([String: Study].self, from: manifest))
    }

    /// Empties orthanc-raw and anon and restores the seeded studies (`scripts/lab reset`).
    func reset() throws {
        try script("reset")
    }

    /// Puts `count` single-instance studies in the VNA (`scripts/lab seed-bench`) and returns the plain
    /// messages naming them (project `bench`).
    func seedBench(_ count: Int) throws -> [[String: Any]] {
        try script("seed-bench", String(count))
        let data = try Data(contentsOf: Lab.directory.appendingPathComponent("bench-messages.json"))
        return try #require(JSONSerialization.jsonObject(with: data) as? [[String: Any]])
    }

    /// Runs `scripts/lab` on this lab. The script finds its servers from LAB_DIR, LAB_HTTP_BASE and
    /// LAB_DICOM_BASE: they are set from lab.env, so that a lab on other ports than the defaults is the
    /// one acted on (not another lab running on the default ports).
    func script(_ arguments: String...) throws {
        let process = Process()
        process.executableURL = Lab.repository.appendingPathComponent("scripts/lab")
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["LAB_DIR"] = Lab.directory.path
        if let vna = self.environment["LAB_VNA_URL"].flatMap(URLComponents.init(string:))?.port {
            environment["LAB_HTTP_BASE"] = String(vna)
        }
        if let pacs2 = self.environment["LAB_PACS2_DICOM_PORT"].flatMap(Int.init) {
            environment["LAB_DICOM_BASE"] = String(pacs2 - 4)
        }
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw LabError("scripts/lab \(arguments.joined(separator: " ")) failed") }
    }

    /// A plain JSON message (as `POST /messages` takes it) for a study of the manifest.
    func plainMessage(_ key: String, project: String = "lab-test") throws -> [String: Any] {
        let study = try #require(studies[key], "no study \(key) in the lab manifest")
        return [
            "mrn": study.mrn, "accession_number": study.accession_number, "study_uid": study.study_uid,
            "study_date": "2024-01-02", "procedure_occurrence_id": 1, "project_name": project,
            "extract_generated_timestamp": "2026-11-29T09:00:00+00:00",
        ]
    }

    /// The service's configuration for the lab, with `overrides` on top.
    func configuration(_ overrides: [String: String] = [:]) throws -> PixlConfiguration {
        var values = environment
        values["PIXL_SECONDARY_QUERY_HOURS"] = "always"
        values.merge(overrides) { _, new in new }
        return try PixlConfiguration(environment: Environment(values))
    }

    func pipeline(
        _ overrides: [String: String] = [:],
        now: @escaping @Sendable () -> Date = { Date() }
    ) throws -> ArchivePipeline<HTTPOrthancClient> {
        let configuration = try configuration(overrides)
        let client = HTTPOrthancClient(
            httpClient: http,
            configuration: .init(configuration.orthancRaw, requestTimeout: configuration.queryTimeout),
            logger: Logger(label: "lab-test")
        )
        return ArchivePipeline(orthanc: client, configuration: .init(configuration), now: now)
    }

    func message(_ key: String, project: String = "lab-test", studyUID: String? = nil, identifiers: Bool = true) throws -> ImagingMessage {
        let study = try #require(studies[key], "no study \(key) in the lab manifest")
        return ImagingMessage(
            mrn: identifiers ? study.mrn : "",
            accessionNumber: identifiers ? study.accession_number : "",
            studyUID: studyUID ?? study.study_uid,
            studyDate: CalendarDate(year: 2024, month: 1, day: 2)!,
            procedureOccurrenceID: 1,
            projectName: project,
            extractGeneratedTimestamp: ExtractTimestamp(date: CalendarDate(year: 2026, month: 11, day: 29)!)!
        )
    }

    // MARK: orthanc-raw, read directly

    /// `GET` on orthanc-raw, decoded as JSON.
    func raw(_ path: String) async throws -> Any {
        try JSONSerialization.jsonObject(with: Data(buffer: try await rawBody(path)), options: [.fragmentsAllowed])
    }

    /// `GET` on orthanc-raw: the body of a 200 answer.
    func rawBody(_ path: String) async throws -> ByteBuffer {
        var request = HTTPClientRequest(url: environment["ORTHANC_RAW_URL"]! + path)
        let credentials = Data("\(environment["ORTHANC_RAW_USERNAME"]!):\(environment["ORTHANC_RAW_PASSWORD"]!)".utf8).base64EncodedString()
        request.headers.add(name: "Authorization", value: "Basic \(credentials)")
        let response = try await http.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 64 << 20)
        guard response.status == .ok else { throw LabError("GET \(path) answered \(response.status.code)") }
        return body
    }

    /// Orthanc ids of the studies in orthanc-raw with this StudyInstanceUID.
    func rawStudies(uid: String) async throws -> [String] {
        let studies = try await raw("/studies?expand") as! [[String: Any]]
        return studies.filter { ($0["MainDicomTags"] as? [String: Any])?["StudyInstanceUID"] as? String == uid }.map { $0["ID"] as! String }
    }

    /// Every instance of a raw study with the tags that matter, read from its stored file.
    func rawInstances(study id: String) async throws -> [[String: String]] {
        let instances = try await raw("/studies/\(id)/instances") as! [[String: Any]]
        var result: [[String: String]] = []
        for instance in instances {
            let iid = instance["ID"] as! String
            let tags = try await raw("/instances/\(iid)/tags?short") as! [String: Any]
            var row = ["id": iid]
            for (key, tag) in [
                ("creator", "000d,0010"), ("project", "000d,1001"), ("study", "0020,000d"), ("series", "0020,000e"), ("sop", "0008,0018"),
            ] {
                row[key] = (tags[tag] as? String)?.trimmingCharacters(in: .whitespaces)
            }
            result.append(row)
        }
        return result
    }

    /// The stored DICOM file of an instance, as dcmtk's `dcmdump` prints it.
    func dump(instance id: String) async throws -> String {
        let body = try await rawBody("/instances/\(id)/file")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("pixl-\(id).dcm")
        try Data(buffer: body).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/dcmdump")
        process.arguments = [file.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: output, as: UTF8.self)
    }

    /// How many C-MOVE jobs orthanc-raw remembers for each of these study UIDs (it keeps the last
    /// `JobsHistorySize`, 50 in the lab).
    func retrieveJobCounts(studyUIDs: [String]) async throws -> [String: Int] {
        let jobs = try await raw("/jobs?expand") as! [[String: Any]]
        var counts: [String: Int] = [:]
        for job in jobs where job["Type"] as? String == "DicomMoveScu" {
            let content = job["Content"].flatMap { try? JSONSerialization.data(withJSONObject: $0) }.map { String(decoding: $0, as: UTF8.self) } ?? ""
            for uid in studyUIDs where content.contains("\"\(uid)\"") { counts[uid, default: 0] += 1 }
        }
        return counts
    }

    /// How many C-MOVE jobs for this study orthanc-raw remembers. Counted per study, not in total: the
    /// history keeps only the last 50 jobs, so a total can drop when a new job evicts an old C-MOVE.
    func retrieveJobCount(studyUID: String) async throws -> Int {
        try await retrieveJobCounts(studyUIDs: [studyUID])[studyUID] ?? 0
    }
}

struct LabError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
