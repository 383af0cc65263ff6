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
        let configuration = try PixlConfiguration(
            environment: Environment([
                "ORTHANC_RAW_URL": "http://127.0.0.1:1", "ORTHANC_RAW_AE_TITLE": "ORTHANCRAW",
                "PRIMARY_DICOM_SOURCE_MODALITY": "UCPRIMARYQR", "PRIMARY_DICOM_SOURCE_AE_TITLE": "VNAQR",
            ])
        )
        let pool = WorkerPool(
            store: store,
            pipeline: ArchivePipeline(orthanc: orthanc, configuration: .init(configuration)),
            configuration: .init(
                maxInFlight: 1,
                retryPolicy: RetryPolicy(initialDelay: .milliseconds(50), maximumDelay: .milliseconds(200), maxAttempts: 3),
                idlePoll: .milliseconds(20)
            ),
            takeToken: {},
            logger: Logger(label: "test")
        )
        let message = ImagingMessage(
            mrn: "MRN-1", accessionNumber: "ACC-1", studyUID: "1.2.3", studyDate: CalendarDate(year: 2024, month: 1, day: 2)!,
            procedureOccurrenceID: 1, projectName: "proj", extractGeneratedTimestamp: ExtractTimestamp(date: CalendarDate(year: 2024, month: 1, day: 2)!)!
        )
        let job = try #require(try await store.enqueue([message], now: Date()).first).job
        var seenRetry: Job?
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await pool.run() }
                while let current = try await store.job(id: job.id), !current.state.isFinal {
                    if current.state == .retry, seenRetry == nil { seenRetry = current }
                    try await Task.sleep(for: .milliseconds(5))
                }
                trigger.triggerGracefulShutdown()
                try await group.waitForAll()
            }
        }
        let retried = try #require(seenRetry, "the job never waited in retry")
        #expect(retried.reason == "Orthanc serverError (HTTP 503)")
        let next = try #require(retried.nextAttemptAt)
        #expect(next > retried.updatedAt)
        let final = try #require(try await store.job(id: job.id))
        #expect(final.state == .failed)
        #expect(final.attempts == 3)
        #expect(final.reason == "gave up after 3 attempts: Orthanc serverError (HTTP 503)")
        #expect(await orthanc.calls(matching: "POST /tools/find").count == 3)
    }
}
