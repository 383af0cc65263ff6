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
    static let configuration = try! PixlConfiguration(
        environment: Environment([
            "ORTHANC_RAW_URL": "http://127.0.0.1:1", "ORTHANC_RAW_AE_TITLE": "ORTHANCRAW",
            "PRIMARY_DICOM_SOURCE_MODALITY": "UCPRIMARYQR", "PRIMARY_DICOM_SOURCE_AE_TITLE": "VNAQR",
        ])
    )

    /// Runs a pool of one worker on `message` until the job is final; returns every job state recorded
    /// (as the job stood right after), awaited through the pool's `onRecorded` hook, without sleeping.
    static func runUntilFinal(_ message: ImagingMessage, orthanc: FakeOrthanc, maxAttempts: Int) async throws -> [Job] {
        let store = InMemoryJobStore()
        let (states, recorded) = AsyncStream.makeStream(of: JobState.self)
        let pool = WorkerPool(
            store: store,
            pipeline: ArchivePipeline(orthanc: orthanc, configuration: .init(configuration)),
            configuration: .init(
                maxInFlight: 1,
                retryPolicy: RetryPolicy(initialDelay: .milliseconds(20), maximumDelay: .milliseconds(100), maxAttempts: maxAttempts),
                idlePoll: .milliseconds(20)
            ),
            takeToken: {},
            onRecorded: { _, state in recorded.yield(state) },
            logger: Logger(label: "test")
        )
        let job = try #require(try await store.enqueue([message], now: Date()).first).job
        var history: [Job] = []
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await pool.run() }
                for await state in states {
                    history.append(try #require(try await store.job(id: job.id)))
                    if state.isFinal { break }
                }
                trigger.triggerGracefulShutdown()
                try await group.waitForAll()
            }
        }
        return history
    }

    @Test(.timeLimit(.minutes(1)))
    func transientFaultsRetryThenFailWithTheLastError() async throws {
        let orthanc = FakeOrthanc()
        // orthanc-raw answers its job list (no back-pressure) but every other call fails with HTTP 503.
        await orthanc.setFailure(OrthancError(code: .serverError, status: 503, request: "POST /tools/find"), sparing: ["GET /jobs"])
        let history = try await Self.runUntilFinal(PipelineFixtures.message, orthanc: orthanc, maxAttempts: 3)
        #expect(history.map(\.state) == [.retry, .retry, .failed])
        let retried = history[0]
        #expect(retried.reason == "Orthanc serverError (HTTP 503)")
        let next = try #require(retried.nextAttemptAt)
        #expect(next > retried.updatedAt)
        let final = try #require(history.last)
        #expect(final.attempts == 3)
        #expect(final.reason == "gave up after 3 attempts: Orthanc serverError (HTTP 503)")
        #expect(await orthanc.calls(matching: "POST /tools/find").count == 3)
    }

    /// Never succeeded while instances are missing: retried with "N of M instances", then failed with
    /// the same counts.
    @Test(.timeLimit(.minutes(1)))
    func incompleteStudyRetriesThenFailsWithTheCounts() async throws {
        let orthanc = FakeOrthanc()
        await orthanc.setArchive(PipelineFixtures.primary, [PipelineFixtures.large])
        await orthanc.setUndeliverable(["1.2.3.2.1", "1.2.3.2.2"])
        let history = try await Self.runUntilFinal(PipelineFixtures.message, orthanc: orthanc, maxAttempts: 2)
        #expect(history.map(\.state) == [.retry, .failed])
        #expect(history[0].reason == "10 of 12 instances in orthanc-raw")
        #expect(history[1].reason == "gave up after 2 attempts: 10 of 12 instances in orthanc-raw")
        // The first attempt moved the study and at once topped up the two instances missing; the second
        // tried those two again, never the whole study.
        #expect(await orthanc.moves.map(\.level) == [.study, .instance, .instance])
        #expect(await orthanc.moves.last?.uids == ["1.2.3.2.1", "1.2.3.2.2"])
    }
}
