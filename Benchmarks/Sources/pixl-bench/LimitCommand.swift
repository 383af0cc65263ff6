import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import PixlCore
import PixlImaging
import PixlOrthanc

/// The limit the service is measured against: the minimal Orthanc REST sequence for each study
/// (query by UID, retrieve, follow the job, find the study, tag, follow the job) made straight from
/// a task group, with no queue, no database and no rate gate.
struct LimitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "limit",
        abstract: "Pull and tag every study of a message file with the minimal REST sequence; print JSON figures."
    )

    @Option(help: "A JSON array of plain messages (scripts/lab seed-bench writes one).")
    var messages: String

    @Option(help: "Studies processed at once.")
    var concurrency: Int = 1

    func run() async throws {
        let environment = try Environment.load()
        let configuration = try PixlConfiguration(environment: environment)
        let studyUIDs = try Self.studyUIDs(in: messages)
        let client = HTTPOrthancClient(
            httpClient: HTTPClient.shared,
            configuration: .init(configuration.orthancRaw, requestTimeout: configuration.queryTimeout),
            logger: Logger(label: "pixl-bench")
        )
        let follower = JobFollower(orthanc: client, timeout: configuration.transferTimeout)
        let modality = configuration.primary.modality
        let rawAET = configuration.orthancRaw.aeTitle

        let clock = ContinuousClock()
        let started = clock.now
        let durations = try await withThrowingTaskGroup(of: Duration.self) { group in
            var pending = studyUIDs[...]
            var durations: [Duration] = []
            func startNext() {
                guard let uid = pending.popFirst() else { return }
                group.addTask {
                    let begin = clock.now
                    let query = try await client.query(.study, modality: modality, keys: ["StudyInstanceUID": uid, "InstanceAvailability": ""])
                    guard try await follower.follow(try await client.retrieve(queryID: query.id, targetAET: rawAET)) == .succeeded else {
                        throw BenchError("retrieve of \(uid) did not succeed")
                    }
                    for study in try await client.findStudies(matching: ["StudyInstanceUID": uid]) {
                        guard try await follower.follow(try await client.modifyStudy(id: study.id, body: .tagProject("bench"))) == .succeeded else {
                            throw BenchError("tagging \(uid) did not succeed")
                        }
                    }
                    return clock.now - begin
                }
            }
            for _ in 0..<concurrency { startNext() }
            while let duration = try await group.next() {
                durations.append(duration)
                startNext()
            }
            return durations
        }
        let elapsed = clock.now - started
        print(try jsonLine(Figures(durations: durations, elapsed: elapsed, concurrency: concurrency)))
    }

    static func studyUIDs(in file: String) throws -> [String] {
        let data = try Data(contentsOf: URL(fileURLWithPath: file))
        guard let array = try JSONSerialization.jsonObject(with: data) as? [[String: Any]] else {
            throw BenchError("\(file) is not a JSON array of messages")
        }
        return array.compactMap { $0["study_uid"] as? String }
    }
}
