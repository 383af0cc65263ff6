import Foundation
import Logging
import PixlCore
import PixlImaging
import PixlTesting
import ServiceLifecycleTestKit
import Testing

/// The worker pool against an in-memory store and Orthanc: a job meeting transient faults is retried
/// with back-off, attempt after attempt, and ends failed with the last error once the budget is spent.
struct WorkerPoolRetryTests {
    @Test(.timeLimit(.minutes(1)))
    func transientFaultsRetryThenFailWithTheLastError() async throws {
        let store = InMemoryJobStore()
        let orthanc = FakeOrthanc()
        // orthanc-raw answers its job list (no back-pressure) but every other call fails with HTTP 503.
        await orthanc.setFailure(OrthancError(code: .serverError, status: 503, request: "POST /tools/find"), sparing: ["GET /jobs"])
        let events = JobEvents()
        let recorder = JobEventRecorder(events)
        let pool = WorkerPool(
            store: store,
            pipeline: ArchivePipeline(orthanc: orthanc, configuration: .init(try .testing())),
            configuration: .init(
                maxInFlight: 1,
                retryPolicy: RetryPolicy(initialDelay: .milliseconds(50), maximumDelay: .milliseconds(200), maxAttempts: 3),
                idlePoll: .milliseconds(20)
            ),
            rateGate: try TokenBucket(rate: 1000, clock: ContinuousClock()),
            events: events,
            clock: ContinuousClock(),
            logger: Logger(label: "test")
        )
        let job = try #require(try await store.enqueue([.synthetic(1)], now: Date()).first).job
        let final = try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await pool.run() }
                let final = await recorder.finished(job.id)
                trigger.triggerGracefulShutdown()
                try await group.waitForAll()
                return final
            }
        }
        let retries = recorder.events.compactMap { event -> Job? in
            if case .recorded(let recorded) = event, recorded.state == .retry { recorded } else { nil }
        }
        #expect(retries.map(\.attempts) == [1, 2])
        for retried in retries {
            #expect(retried.reason == "Orthanc serverError (HTTP 503)")
            #expect(try #require(retried.nextAttemptAt) > retried.updatedAt)
        }
        #expect(final.state == .failed)
        #expect(final.attempts == 3)
        #expect(final.reason == "gave up after 3 attempts: Orthanc serverError (HTTP 503)")
        #expect(try await store.job(id: job.id) == final)
        #expect(await orthanc.calls(matching: "POST /tools/find").count == 3)
    }
}
