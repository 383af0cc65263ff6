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
    static let message = ImagingMessage(
        mrn: "MRN-1", accessionNumber: "ACC-1", studyUID: "1.2.3", studyDate: CalendarDate(year: 2024, month: 1, day: 2)!,
        procedureOccurrenceID: 1, projectName: "proj", extractGeneratedTimestamp: ExtractTimestamp(date: CalendarDate(year: 2024, month: 1, day: 2)!)!
    )

    @Test(.timeLimit(.minutes(1))) func jobCutShortAtShutdownIsReleasedToQueued() async throws {
        try await TestDatabase.with(.sqlite) { database in
            try await database.migrate()
            try await database.withStore { store in try await Self.shutDownWhileAJobRuns(store) }
        }
    }

    static func shutDownWhileAJobRuns(_ store: some JobStore) async throws {
        let orthanc = FakeOrthanc()
        await orthanc.setArchive("UCPRIMARYQR", [FakeOrthanc.Study(uid: "1.2.3", patientID: "MRN-1", accessionNumber: "ACC-1")])
        await orthanc.setJobStates(retrieve: .running)  // the C-MOVE never ends
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
                maxInFlight: 1, retryPolicy: RetryPolicy(maxAttempts: 3), lease: .seconds(60),
                idlePoll: .milliseconds(50), drainTimeout: .milliseconds(200)
            ),
            takeToken: {},
            logger: testLogger
        )
        let job = try #require(try await store.enqueue([message], now: Date()).first).job
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await pool.run() }
                while try await store.job(id: job.id)?.state != .inProgress {
                    try await Task.sleep(for: .milliseconds(20))
                }
                try await Task.sleep(for: .milliseconds(100))
                trigger.triggerGracefulShutdown()
                try await group.waitForAll()
            }
        }
        let after = try #require(try await store.job(id: job.id))
        #expect(after.state == .queued)
        #expect(after.attempts == 0)
    }
}
