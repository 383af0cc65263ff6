import Foundation
import PixlCore
import PixlDatabase
import PixlImaging
import PixlTesting
import ServiceLifecycleTestKit
import Testing

/// The worker pool's graceful shutdown on the real SQLite store: a job still running when the drain time
/// is up goes back to `queued`. GRDB refuses writes from a cancelled task, which once left such a job
/// `in_progress` until its lease ran out.
struct WorkerPoolShutdownTests {
    @Test(.timeLimit(.minutes(1))) func jobCutShortAtShutdownIsReleasedToQueued() async throws {
        try await TestDatabase.with(.sqlite) { database in
            try await database.migrate()
            try await database.withStore { store in try await Self.shutDownWhileAJobRuns(store) }
        }
    }

    static func shutDownWhileAJobRuns(_ store: some JobStore) async throws {
        let message = ImagingMessage.synthetic(1)
        let orthanc = FakeOrthanc()
        await orthanc.setArchive(
            "UCPRIMARYQR",
            [FakeOrthanc.Study(uid: message.studyUID, patientID: message.mrn, accessionNumber: message.accessionNumber)]
        )
        await orthanc.setJobStates(retrieve: .running)  // the C-MOVE never ends
        let events = JobEvents()
        let recorder = JobEventRecorder(events)
        let pool = WorkerPool(
            store: store,
            pipeline: ArchivePipeline(orthanc: orthanc, configuration: .init(try .testing())),
            configuration: .init(
                retryPolicy: RetryPolicy(maxAttempts: 3), lease: .seconds(60),
                idlePoll: .milliseconds(50), drainTimeout: .milliseconds(200)
            ),
            lanes: try .testing(rate: 100, clock: ContinuousClock()),
            events: events,
            clock: ContinuousClock(),
            logger: testLogger
        )
        let job = try #require(try await store.enqueue([message], now: Date()).first).job
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await pool.run() }
                _ = await recorder.started(job.id)
                trigger.triggerGracefulShutdown()
                try await group.waitForAll()
            }
        }
        #expect(recorder.events.contains { if case .released(let released) = $0 { released.id == job.id } else { false } })
        let after = try #require(try await store.job(id: job.id))
        #expect(after.state == .queued)
        #expect(after.attempts == 0)
    }
}
