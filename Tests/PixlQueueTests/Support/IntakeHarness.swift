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
    let store = InMemoryJobStore()
    let intake: AMQPIntake<InMemoryJobStore>
    let metrics = CountingMetrics()
    /// Feeds the intake's `recordedJobs`, as the worker pool's `onRecorded` does in `serve`.
    let recorded: AsyncStream<RecordedJob>.Continuation

    init(queue: String, prefetch: Int, statusPoll: Duration = .milliseconds(200), notifications: Bool = true) {
        let (stream, continuation) = AsyncStream.makeStream(of: RecordedJob.self)
        recorded = continuation
        intake = AMQPIntake(
            store: store,
            configuration: .init(
                host: Broker.host,
                port: Broker.port,
                username: Broker.username,
                password: Broker.password,
                queue: queue,
                prefetch: prefetch,
                statusPoll: statusPoll,
                backoff: .init(initial: .milliseconds(100), maximum: .seconds(1))
            ),
            recordedJobs: notifications ? stream : nil,
            metrics: metrics,
            logger: Broker.logger
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

    /// A worker standing in for the pool: claims a job, records `outcome`, and tells the intake.
    @discardableResult
    func process(_ outcome: PipelineOutcome = .succeeded(archive: .primary, orthancIDs: []), retryAt: Date? = nil) async throws -> Job? {
        guard let job = try await store.claimNext(now: Date(), lease: .seconds(60)) else { return nil }
        let recordedJob = try await store.record(outcome, retryAt: retryAt, for: job.id, now: Date())
        recorded.yield(RecordedJob(id: job.id, state: recordedJob.state))
        return recordedJob
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
                if let job = try? await harness.store.claimNext(now: Date(), lease: .seconds(60)) {
                    if delay > .zero { try? await Task.sleep(for: delay) }
                    if let recorded = try? await harness.store.record(.succeeded(archive: .primary, orthancIDs: []), for: job.id, now: Date()) {
                        harness.recorded.yield(RecordedJob(id: job.id, state: recorded.state))
                    }
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
    func recordOutcome(_ state: JobState) {}
    func recordStep(_ step: String, duration: Duration) {}
    func recordOrthancCall(_ operation: String, duration: Duration) {}
    func recordOrthancError(_ operation: String, kind: String) {}
    func setRate(_ rate: Double) {}
    func setInFlight(_ count: Int) {}
    func setQueueDepth(_ count: Int) {}
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
