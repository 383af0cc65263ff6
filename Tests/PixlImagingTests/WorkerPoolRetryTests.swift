import Foundation
import Logging
import PixlCore
import PixlImaging
import PixlTesting
import ServiceLifecycleTestKit
import Testing

/// The worker pool against an in-memory store and Orthanc: it alone decides retry timing. A job meeting
/// transient faults, or whose study stays incomplete, is retried with back-off and ends failed with the
/// last reason (and the studies' counts) once the budget is spent.
struct WorkerPoolRetryTests {
    /// Runs a pool of one worker on `message` until the job is final; every job the pool recorded, in order
    /// (heard as ``JobEvent``s, without sleeping), and the store's last word on the job.
    static func runUntilFinal(_ message: ImagingMessage, orthanc: FakeOrthanc, maxAttempts: Int) async throws -> (history: [Job], stored: Job?) {
        let store = InMemoryJobStore()
        let events = JobEvents()
        let recorder = JobEventRecorder(events)
        let pool = WorkerPool(
            store: store,
            pipeline: ArchivePipeline(orthanc: orthanc, configuration: .init(try .testing())),
            configuration: .init(
                retryPolicy: RetryPolicy(initialDelay: .milliseconds(20), maximumDelay: .milliseconds(100), maxAttempts: maxAttempts),
                idlePoll: .milliseconds(20)
            ),
            lanes: try .testing(rate: 1000, clock: ContinuousClock()),
            events: events,
            clock: ContinuousClock(),
            logger: Logger(label: "test")
        )
        let job = try #require(try await store.enqueue([message], now: Date()).first).job
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await pool.run() }
                _ = await recorder.finished(job.id)
                trigger.triggerGracefulShutdown()
                try await group.waitForAll()
            }
        }
        let history = recorder.events.compactMap { event -> Job? in if case .recorded(let job) = event { job } else { nil } }
        return (history, try await store.job(id: job.id))
    }

    @Test(.timeLimit(.minutes(1)))
    func transientFaultsRetryThenFailWithTheLastError() async throws {
        let orthanc = FakeOrthanc()
        // orthanc-raw answers its job list (no back-pressure) but every other call fails with HTTP 503.
        await orthanc.setFailure(OrthancError(code: .serverError, status: 503, request: "POST /tools/find"), sparing: ["GET /jobs"])
        let (history, stored) = try await Self.runUntilFinal(PipelineFixtures.message, orthanc: orthanc, maxAttempts: 3)
        #expect(history.map(\.state) == [.retry, .retry, .failed])
        #expect(history.map(\.attempts) == [1, 2, 3])
        for retried in history.dropLast() {
            #expect(retried.reason == "Orthanc serverError (HTTP 503)")
            #expect(try #require(retried.nextAttemptAt) > retried.updatedAt)
        }
        let final = try #require(history.last)
        #expect(final.reason == "gave up after 3 attempts: Orthanc serverError (HTTP 503)")
        #expect(stored == final)
        #expect(await orthanc.calls(matching: "POST /tools/find").count == 3)
    }

    /// Never succeeded while instances are missing: retried with "N of M instances", then failed with
    /// the same counts.
    @Test(.timeLimit(.minutes(1)))
    func incompleteStudyRetriesThenFailsWithTheCounts() async throws {
        let orthanc = FakeOrthanc()
        await orthanc.setArchive(PipelineFixtures.primary, [PipelineFixtures.large])
        await orthanc.setUndeliverable(["1.2.3.2.1", "1.2.3.2.2"])
        let (history, _) = try await Self.runUntilFinal(PipelineFixtures.message, orthanc: orthanc, maxAttempts: 2)
        #expect(history.map(\.state) == [.retry, .failed])
        #expect(history[0].reason == "10 of 12 instances in orthanc-raw")
        #expect(history[1].reason == "gave up after 2 attempts: 10 of 12 instances in orthanc-raw")
        #expect(history[1].studies.map(\.countDescription) == ["10 of 12 instances"])
        // The first attempt moved the study and at once topped up the two instances missing; the second
        // tried those two again, never the whole study.
        #expect(await orthanc.moves.map(\.level) == [.study, .instance, .instance])
        #expect(await orthanc.moves.last?.uids == ["1.2.3.2.1", "1.2.3.2.2"])
    }
}
