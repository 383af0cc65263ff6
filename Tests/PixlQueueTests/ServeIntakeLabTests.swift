import AsyncHTTPClient
import Foundation
import PixlTesting
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import PixlAPI
import PixlCore
import PixlDatabase
import PixlService
import ServiceLifecycle
import Testing


/// End to end: the service (in process, as `serve` assembles it, on a fresh SQLite file) consumes messages that pika
/// publishes, as the PIXL CLI does, and pulls the lab's studies into orthanc-raw, tagged. Needs the broker and the lab.
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
        let configuration = try PixlConfiguration(environment: Environment(environment))
        let app = try await buildApplication(
            configuration: configuration,
            database: DatabaseConfiguration(backend: .sqlite(path: directory.appendingPathComponent("pixl.sqlite").path)),
            metrics: PixlMetrics(),
            logger: Broker.logger
        )
        let service = ServiceGroup(configuration: .init(services: [app], logger: Broker.logger))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await service.run() }
            defer { group.cancelAll() }
            // The service declares the queue (it does not exist yet) once it connects; publish after that.
            try await eventually("the service declares the queue", timeout: .seconds(30)) { (try? Broker.counts(queue)) != nil }
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
            // Graceful shutdown (SIGTERM's path) returns: the intake stops consuming, the pool drains.
            await service.triggerGracefulShutdown()
            try await group.next()
        }
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
        let environment = try LiveService.lab.settings().filter { !$0.key.hasPrefix("LAB_") || $0.key == "LAB_RAW_URL" }
        let manifest = try Data(contentsOf: LiveService.directory.appendingPathComponent("studies.json"))
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
