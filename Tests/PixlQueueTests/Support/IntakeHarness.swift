import AMQPClient
import Foundation
import Logging
import PixlCore
import PixlQueue
import PixlTesting
import ServiceLifecycle
import Synchronization

/// An intake over an in-memory store, run in a ServiceGroup for the duration of a test body.
struct IntakeHarness {
    let store: InMemoryJobStore
    let intake: AMQPIntake<InMemoryJobStore>
    let metrics = CountingMetrics()
    let events = JobEvents()
    /// Whether the stand-in worker publishes what it records, as the worker pool does in `serve`.
    let notifications: Bool

    init(
        queue: String,
        prefetch: Int,
        statusPoll: Duration = .milliseconds(200),
        notifications: Bool = true,
        store: InMemoryJobStore = InMemoryJobStore(),
        password: String = Broker.password,
        logger: Logger = Broker.logger
    ) {
        self.store = store
        self.notifications = notifications
        intake = AMQPIntake(
            store: store,
            configuration: .init(
                host: Broker.host,
                port: Broker.port,
                username: Broker.username,
                password: password,
                queue: queue,
                prefetch: prefetch,
                statusPoll: statusPoll,
                backoff: .init(initial: .milliseconds(100), maximum: .seconds(1))
            ),
            events: events,
            metrics: metrics,
            logger: logger
        )
    }

    /// Runs the intake while `body` runs, then shuts it down gracefully and waits for it to return.
    func run<Result: Sendable>(_ body: () async throws -> Result) async throws -> Result {
        let group = ServiceGroup(configuration: .init(services: [intake], logger: Broker.logger))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do {
                let result = try await body()
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return result
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
        }
    }

    /// A worker standing in for the pool: claims a job, records `result`, and tells the intake.
    @discardableResult
    func process(_ result: JobResult = JobResult(.succeeded(archive: .primary, studies: []))) async throws -> Job? {
        guard let claim = try await store.claimNext(in: .primary, now: Date(), lease: .seconds(60)) else { return nil }
        return try await record(result, for: claim)
    }

    /// Records `result` for a claimed job and, with notifications, publishes it as the worker pool does.
    @discardableResult
    func record(_ result: JobResult, for claim: Claim) async throws -> Job {
        let recorded = try await store.record(result, for: claim, now: Date())
        if notifications { events.publish(.recorded(recorded)) }
        return recorded
    }

    func jobs() async -> [Job] { await store.allJobs }
}

/// Runs a worker over the harness's store until the body ends.
func withWorker<Result: Sendable>(
    _ harness: IntakeHarness,
    delay: Duration = .zero,
    _ body: () async throws -> Result
) async throws -> Result {
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask {
            while !Task.isCancelled {
                if let claim = try? await harness.store.claimNext(in: .primary, now: Date(), lease: .seconds(60)) {
                    if delay > .zero { try? await Task.sleep(for: delay) }
                    _ = try? await harness.record(JobResult(.succeeded(archive: .primary, studies: [])), for: claim)
                } else {
                    try? await Task.sleep(for: .milliseconds(10))
                }
            }
        }
        defer { tasks.cancelAll() }
        return try await body()
    }
}

/// Counts what the intake records.
final class CountingMetrics: PipelineMetrics, Sendable {
    private let rejected = Atomic<Int>(0)
    var rejectedCount: Int { rejected.load(ordering: .relaxed) }

    func recordRejectedMessage(source: String) { rejected.add(1, ordering: .relaxed) }
    func recordStep(_ step: String, duration: Duration) {}
    func recordOrthancCall(_ operation: String, duration: Duration) {}
    func recordOrthancError(_ operation: String, kind: String) {}
}

/// A valid plain-JSON message body for study number `n`.
func plainMessage(_ n: Int, project: String = "intake-test") -> ImagingMessage {
    ImagingMessage(
        mrn: "MRN-\(n)",
        accessionNumber: "ACC-\(n)",
        studyUID: "2.25.9\(n)",
        studyDate: CalendarDate(year: 2024, month: 1, day: 2)!,
        procedureOccurrenceID: Int64(n),
        projectName: project,
        extractGeneratedTimestamp: ExtractTimestamp(date: CalendarDate(year: 2026, month: 1, day: 1)!)!
    )
}

func body(_ message: ImagingMessage) -> [UInt8] { Array(message.plainJSON().utf8) }

/// The `pixl-messages` fixtures of PixlCoreTests, read in place (the intake tests publish the same files with pika).
enum PixlMessageFixtures {
    static let directory = Broker.repository.appendingPathComponent("Tests/PixlCoreTests/Resources/pixl-messages")
    static var good: [URL] { files(in: directory).filter { !$0.lastPathComponent.hasSuffix(".expected.json") } }
    static var bad: [URL] { files(in: directory.appendingPathComponent("bad")) }

    private static func files(in directory: URL) -> [URL] {
        ((try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)) ?? [])
            .filter { $0.pathExtension == "json" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }
}
