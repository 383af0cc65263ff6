import Foundation
import Logging
import PixlCore
import PixlImaging
import PixlTesting
import ServiceLifecycleTestKit
import Testing

/// A worker that loses its claim (frozen past its lease while another worker took the job over) stops working on the
/// job and writes nothing: the other worker's result stands.
struct WorkerPoolLeaseTests {
    @Test(.timeLimit(.minutes(1)))
    func aWorkerWhoseClaimIsTakenOverStopsAndWritesNothing() async throws {
        let store = InMemoryJobStore()
        let orthanc = FakeOrthanc()
        await orthanc.setArchive(PipelineFixtures.primary, [PipelineFixtures.large])
        await orthanc.setJobStates(retrieve: .running)  // the C-MOVE never ends: the worker holds the job
        let events = JobEvents()
        let recorder = JobEventRecorder(events)
        let pool = WorkerPool(
            store: store,
            pipeline: ArchivePipeline(orthanc: orthanc, configuration: .init(try .testing())),
            configuration: .init(retryPolicy: RetryPolicy(), lease: .milliseconds(300), idlePoll: .milliseconds(20)),
            lanes: try .testing(rate: 1000, clock: ContinuousClock()),
            events: events,
            clock: ContinuousClock(),
            logger: Logger(label: "test")
        )
        let job = try #require(try await store.enqueue([PipelineFixtures.message], now: Date()).first).job
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await pool.run() }
                _ = await recorder.started(job.id)
                // Another worker, to which the lease looks expired, takes the job over and finishes it.
                let takeover = try #require(try await store.claimNext(in: .primary, now: Date().addingTimeInterval(60), lease: .seconds(600)))
                #expect(takeover.job.id == job.id && takeover.job.attempts == 2)
                let done = try await store.record(JobResult(.succeeded(archive: .primary, orthancIDs: ["s1"])), for: takeover, now: Date())
                // The pool's next renewal finds the claim gone: it stops the job.
                _ = await recorder.first { if case .lost(let lost) = $0 { lost.id == job.id } else { false } }
                trigger.triggerGracefulShutdown()
                try await group.waitForAll()
                #expect(try await store.job(id: job.id) == done)
            }
        }
        #expect(!recorder.events.contains { if case .recorded(let recorded) = $0 { recorded.id == job.id } else { false } })
    }
}
