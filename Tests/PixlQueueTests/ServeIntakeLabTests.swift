import AsyncHTTPClient
import Foundation
import PixlTesting
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import PixlCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// End to end: `pixl-imaging serve` (a child process, fresh SQLite) consumes messages that pika publishes, as the PIXL
/// CLI does, and pulls the lab's studies into orthanc-raw, tagged. Needs the broker and the lab (`scripts/lab up`).
/// In the intake suite, so it never runs during that suite's broker restart.
extension AMQPIntakeTests {
    @Test func serveConsumesPikaMessagesAndTheStudiesArriveTagged() async throws {
        let lab = try LabSettings.current()
        let queue = Broker.queueName("serve")
        defer { Broker.delete(queue) }
        let project = "intake-e2e-\(UUID().uuidString.prefix(6).lowercased())"
        let keys = ["vna-single", "vna-multi"]
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pixl-intake-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        var files: [URL] = []
        for key in keys {
            let study = try #require(lab.studies[key], "no study \(key) in the lab manifest")
            let message = ImagingMessage(
                mrn: study.mrn,
                accessionNumber: study.accession_number,
                studyUID: study.study_uid,
                studyDate: CalendarDate(year: 2024, month: 1, day: 2)!,
                procedureOccurrenceID: 1,
                projectName: project,
                extractGeneratedTimestamp: ExtractTimestamp(date: CalendarDate(year: 2026, month: 1, day: 1)!)!
            )
            let file = directory.appendingPathComponent("\(key).json")
            try Data(message.plainJSON().utf8).write(to: file)
            files.append(file)
        }

        // Only what the service needs: the lab's settings and the broker's, nothing inherited.
        var environment = lab.environment
        environment["PATH"] = ProcessInfo.processInfo.environment["PATH"]
        environment["PIXL_DB_PATH"] = directory.appendingPathComponent("pixl.sqlite").path
        environment["PIXL_IMAGING_API_HOST"] = "127.0.0.1"
        environment["PIXL_IMAGING_API_PORT"] = "0"
        environment["PIXL_IMAGING_API_RATE"] = "100"
        environment["PIXL_SECONDARY_QUERY_HOURS"] = "always"
        environment["PIXL_MAX_MESSAGES_IN_FLIGHT"] = "2"
        environment["RABBITMQ_HOST"] = Broker.host
        environment["RABBITMQ_PORT"] = "\(Broker.port)"
        environment["RABBITMQ_USERNAME"] = Broker.username
        environment["RABBITMQ_PASSWORD"] = Broker.password
        environment["RABBITMQ_QUEUE"] = queue

        let serve = Process()
        serve.executableURL = try ServeBinary.url()
        serve.arguments = ["serve"]
        serve.environment = environment
        serve.standardOutput = FileHandle.nullDevice
        let log = directory.appendingPathComponent("serve.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        serve.standardError = try FileHandle(forWritingTo: log)
        try serve.run()
        defer {
            if serve.isRunning { kill(serve.processIdentifier, SIGKILL) }
        }

        do {
            // serve declares the queue (it does not exist yet) once it connects; publish after that.
            try await eventually("serve declares the queue", timeout: .seconds(30)) { (try? Broker.counts(queue)) != nil }
            try Broker.pikaPublish(files, to: queue)
            try await eventually("the queue is empty with nothing unacknowledged", timeout: .seconds(90)) {
                (try? Broker.isDrained(queue)) ?? false
            }
            for key in keys {
                let study = lab.studies[key]!
                try await eventually("\(key) is in orthanc-raw tagged with the project", timeout: .seconds(10)) {
                    try await lab.projectTags(studyUID: study.study_uid).contains(project)
                }
            }
        } catch {
            print(String(decoding: (try? Data(contentsOf: log)) ?? Data(), as: UTF8.self))
            throw error
        }

        serve.terminate()  // SIGTERM: graceful shutdown
        let exited = await waitForExit(serve, timeout: .seconds(20))
        #expect(exited, "serve stops within 20 s of SIGTERM")
        if exited { #expect(serve.terminationStatus == 0) }
    }

    private func waitForExit(_ process: Process, timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        return !process.isRunning
    }
}

/// The `pixl-imaging` binary built beside the test bundle (the test target depends on it).
enum ServeBinary {
    static func url() throws -> URL {
        let products = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        var candidate = products.appendingPathComponent("pixl-imaging")
        if !FileManager.default.isExecutableFile(atPath: candidate.path) {
            candidate = Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("pixl-imaging")
        }
        guard FileManager.default.isExecutableFile(atPath: candidate.path) else {
            throw Broker.ScriptError(command: "pixl-imaging", output: "not built at \(candidate.path): run swift build")
        }
        return candidate
    }
}

/// The lab's settings and seeded studies (`scripts/lab up` writes them to `$LAB_DIR`), and orthanc-raw read directly.
struct LabSettings {
    struct Study: Decodable {
        let mrn: String
        let accession_number: String
        let study_uid: String
    }

    let environment: [String: String]
    let studies: [String: Study]

    static func current() throws -> LabSettings {
        let directory = ProcessInfo.processInfo.environment["LAB_DIR"].map { URL(fileURLWithPath: $0) }
            ?? Broker.repository.appendingPathComponent(".lab")
        guard let text = try? String(contentsOf: directory.appendingPathComponent("lab.env"), encoding: .utf8) else {
            throw Broker.ScriptError(command: "lab", output: "the lab is not up: run scripts/lab up (no \(directory.path)/lab.env)")
        }
        var environment: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { environment[String(parts[0])] = String(parts[1]) }
        }
        let manifest = try Data(contentsOf: directory.appendingPathComponent("studies.json"))
        return LabSettings(environment: environment, studies: try JSONDecoder().decode([String: Study].self, from: manifest))
    }

    func raw(_ path: String) async throws -> Any {
        var request = HTTPClientRequest(url: environment["ORTHANC_RAW_URL"]! + path)
        let credentials = Data("\(environment["ORTHANC_RAW_USERNAME"]!):\(environment["ORTHANC_RAW_PASSWORD"]!)".utf8).base64EncodedString()
        request.headers.add(name: "Authorization", value: "Basic \(credentials)")
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 64 << 20)
        guard response.status == .ok else { throw Broker.ScriptError(command: "GET \(path)", output: "\(response.status.code)") }
        return try JSONSerialization.jsonObject(with: Data(buffer: body), options: [.fragmentsAllowed])
    }

    /// The project tag (000d,1001) of every instance of the raw studies with this StudyInstanceUID.
    func projectTags(studyUID: String) async throws -> Set<String> {
        let studies = try await raw("/studies?expand") as? [[String: Any]] ?? []
        var tags: Set<String> = []
        for study in studies where (study["MainDicomTags"] as? [String: Any])?["StudyInstanceUID"] as? String == studyUID {
            let instances = try await raw("/studies/\(study["ID"] as! String)/instances") as? [[String: Any]] ?? []
            for instance in instances {
                let fileTags = try await raw("/instances/\(instance["ID"] as! String)/tags?short") as? [String: Any] ?? [:]
                if let tag = fileTags["000d,1001"] as? String { tags.insert(tag.trimmingCharacters(in: .whitespaces)) }
            }
        }
        return tags
    }
}
