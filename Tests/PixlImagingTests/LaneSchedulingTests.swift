import Foundation
import Logging
import PixlCore
import PixlImaging
import PixlTesting
import ServiceLifecycleTestKit
import Synchronization
import Testing

/// Issue 13 through the worker pool, on an in-memory store and a fake Orthanc: the secondary lane closed or broken
/// never slows the primary; a broken archive costs no attempts while its breaker is open and is probed back; a new
/// project's jobs start within the next claims; a calendar's closed days defer the secondary lane's jobs.
struct LaneSchedulingTests {
    typealias F = PipelineFixtures

    /// A pool over a fake Orthanc whose VNA holds `inPrimary` studies and whose PACS holds `inSecondary`.
    final class Harness: Sendable {
        let store = InMemoryJobStore()
        let orthanc = FakeOrthanc()
        let events = JobEvents()
        let recorder: JobEventRecorder
        let lanes: Lanes<ContinuousClock>
        let pool: WorkerPool<InMemoryJobStore, FakeOrthanc, ContinuousClock>
        /// The breakers' changes, in order, as `lane:state`.
        let breakerChanges: BreakerChanges

        init(_ settings: [String: String] = [:]) throws {
            recorder = JobEventRecorder(events)
            let signals = LaneSignals()
            let configuration = try PixlConfiguration.testing(
                [
                    "SECONDARY_DICOM_SOURCE_MODALITY": F.secondary, "SECONDARY_DICOM_SOURCE_AE_TITLE": "PACSQR",
                    "PIXL_SECONDARY_QUERY_HOURS": "always", "PIXL_IMAGING_API_RATE": "1000", "PIXL_MAX_MESSAGES_IN_FLIGHT": "1",
                ].merging(settings) { _, new in new }
            )
            let changes = BreakerChanges()
            breakerChanges = changes
            lanes = try Lanes(
                configuration: configuration, clock: ContinuousClock(), logger: F.logger, onChange: signals.notify,
                onBreakerChange: { lane, state in changes.list.withLock { $0.append("\(lane.rawValue):\(state)") } }
            )
            pool = WorkerPool(
                store: store,
                pipeline: ArchivePipeline(orthanc: orthanc, configuration: .init(configuration), observer: lanes),
                configuration: .init(
                    retryPolicy: RetryPolicy(initialDelay: .milliseconds(20), maximumDelay: .milliseconds(40), maxAttempts: 10),
                    idlePoll: .milliseconds(20)
                ),
                lanes: lanes,
                events: events,
                signals: signals,
                clock: ContinuousClock(),
                logger: F.logger
            )
        }

        static func study(_ index: Int) -> FakeOrthanc.Study {
            FakeOrthanc.Study(uid: "1.2.\(index)", patientID: "MRN-\(index)", accessionNumber: "ACC-\(index)")
        }

        static func message(_ index: Int, project: String = "proj") -> ImagingMessage {
            var message = F.message(uid: "1.2.\(index)", mrn: "MRN-\(index)", accession: "ACC-\(index)")
            message.projectName = project
            return message
        }

        /// Runs the pool until `body` returns, then shuts it down gracefully.
        func run(_ body: @escaping @Sendable () async throws -> Void) async throws {
            try await testGracefulShutdown { trigger in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await self.pool.run() }
                    try await body()
                    trigger.triggerGracefulShutdown()
                    try await group.waitForAll()
                }
            }
        }

        /// Waits (yielding, with a real-time bound) until `condition` holds.
        func until(_ condition: @Sendable () async throws -> Bool) async throws {
            let deadline = ContinuousClock.now.advanced(by: .seconds(20))
            while try await !condition() {
                try #require(ContinuousClock.now < deadline, "condition not met within 20 s")
                try await Task.sleep(for: .milliseconds(5))
            }
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func anUnreachableSecondaryOpensItsBreakerWhileThePrimaryFlows() async throws {
        let harness = try Harness(["PIXL_SECONDARY_BREAKER_FAULTS": "2", "PIXL_SECONDARY_BREAKER_BACKOFF": "3600"])
        await harness.orthanc.setArchive(F.primary, (0..<8).map(Harness.study))
        await harness.orthanc.setArchive(F.secondary, (100..<103).map(Harness.study))
        await harness.orthanc.setUnreachable(F.secondary, true)
        // The PACS jobs first: they reach the secondary lane while the VNA's are still queued.
        let pacsJobs = try await harness.store.enqueue((100..<103).map { Harness.message($0) }, now: Date()).map(\.job)
        let vnaJobs = try await harness.store.enqueue((0..<8).map { Harness.message($0) }, now: Date()).map(\.job)
        try await harness.run {
            for job in vnaJobs { #expect(await harness.recorder.finished(job.id).state == .succeeded) }
            try await harness.until { harness.lanes.secondary.snapshot().breaker == "open" }
        }
        #expect(harness.breakerChanges.list.withLock { $0 } == ["secondary:open"])
        let finds = await harness.orthanc.finds.filter { $0.modality == F.secondary }
        #expect(finds.count == 2, "two faults opened the breaker; no C-FIND reached the PACS after")
        let stored = try await pacsJobs.asyncMap { try #require(try await harness.store.job(id: $0.id)) }
        // Three claims in the primary lane, two in the secondary (the two faults): the waiting jobs spent none.
        #expect(stored.map(\.attempts).reduce(0, +) == 5)
        #expect(stored.allSatisfy { $0.lane == .secondary && !$0.state.isFinal })
    }

    @Test(.timeLimit(.minutes(1)))
    func aBrokenSecondaryIsProbedAndClosesWhenItAnswersAgain() async throws {
        let harness = try Harness(["PIXL_SECONDARY_BREAKER_FAULTS": "2", "PIXL_SECONDARY_BREAKER_BACKOFF": "0.3"])
        await harness.orthanc.setArchive(F.secondary, (100..<103).map(Harness.study))
        await harness.orthanc.setUnreachable(F.secondary, true)
        let jobs = try await harness.store.enqueue((100..<103).map { Harness.message($0) }, now: Date()).map(\.job)
        try await harness.run {
            try await harness.until { harness.lanes.secondary.snapshot().breaker == "open" }
            await harness.orthanc.setUnreachable(F.secondary, false)
            for job in jobs { #expect(await harness.recorder.finished(job.id).state == .succeeded) }
        }
        #expect(harness.breakerChanges.list.withLock { $0 } == ["secondary:open", "secondary:half_open", "secondary:closed"])
        let stored = try await jobs.asyncMap { try #require(try await harness.store.job(id: $0.id)) }
        // Three claims in the primary lane, the two faults, then one successful run each (the first of them the probe).
        #expect(stored.map(\.attempts).reduce(0, +) == 8)
        #expect(await harness.orthanc.finds.filter { $0.modality == F.secondary && $0.level == .study }.count == 5)
    }

    @Test(.timeLimit(.minutes(1)))
    func aClosedDayDefersTheSecondaryLaneToItsNextOpeningWhileThePrimaryFlows() async throws {
        let zone = TimeZone(identifier: "Europe/London")!
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("closed-\(UUID()).txt")
        let tomorrow = calendar.date(byAdding: .day, value: 1, to: calendar.startOfDay(for: Date()))!
        let dayAfter = calendar.date(byAdding: .day, value: 2, to: calendar.startOfDay(for: Date()))!
        let format = { (date: Date) in
            let parts = calendar.dateComponents([.year, .month, .day], from: date)
            return String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!)
        }
        try "# maintenance\n\(format(Date()))..\(format(tomorrow))\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let harness = try Harness(["PIXL_SECONDARY_CALENDAR": file.path, "TZ": "Europe/London"])
        await harness.orthanc.setArchive(F.primary, (0..<4).map(Harness.study))
        await harness.orthanc.setArchive(F.secondary, [Harness.study(100)])
        let pacsJob = try await harness.store.enqueue([Harness.message(100)], now: Date())[0].job
        let vnaJobs = try await harness.store.enqueue((0..<4).map { Harness.message($0) }, now: Date()).map(\.job)
        try await harness.run {
            for job in vnaJobs { #expect(await harness.recorder.finished(job.id).state == .succeeded) }
            try await harness.until { try await harness.store.job(id: pacsJob.id)?.state == .deferred }
        }
        let deferred = try #require(try await harness.store.job(id: pacsJob.id))
        #expect(deferred.lane == .secondary && deferred.nextAttemptAt == dayAfter, "deferred to the first local midnight after the closed days")
        let snapshot = harness.lanes.secondary.snapshot()
        #expect(!snapshot.isOpen && snapshot.nextChange == dayAfter)
        #expect(await harness.orthanc.finds.allSatisfy { $0.modality != F.secondary }, "nothing was asked of the PACS on a closed day")
    }

    @Test(.timeLimit(.minutes(1)))
    func aNewProjectStartsWithinTheNextClaimsBehindABigOne() async throws {
        let harness = try Harness()
        await harness.orthanc.setArchive(F.primary, (0..<50).map(Harness.study))
        _ = try await harness.store.enqueue((0..<40).map { Harness.message($0, project: "big-extract") }, now: Date())
        let small = try await harness.store.enqueue((40..<45).map { Harness.message($0, project: "urgent-audit") }, now: Date())
        try await harness.run {
            for job in small { _ = await harness.recorder.finished(job.job.id) }
        }
        let claimed = harness.recorder.events.compactMap { event -> String? in
            if case .started(let job) = event { job.message.projectName } else { nil }
        }
        let firstTen = claimed.prefix(10)
        #expect(firstTen.filter { $0 == "urgent-audit" }.count == 5, "turns alternate: \(firstTen)")
    }

    @Test(.timeLimit(.minutes(1)))
    func weightsGiveAProjectMoreTurns() async throws {
        let harness = try Harness(["PIXL_PROJECT_WEIGHTS": "big-extract=1,urgent-audit=4"])
        await harness.orthanc.setArchive(F.primary, (0..<40).map(Harness.study))
        _ = try await harness.store.enqueue((0..<20).map { Harness.message($0, project: "big-extract") }, now: Date())
        let urgent = try await harness.store.enqueue((20..<40).map { Harness.message($0, project: "urgent-audit") }, now: Date())
        try await harness.run {
            _ = await harness.recorder.finished(urgent[7].job.id)
        }
        let claimed = harness.recorder.events.compactMap { event -> String? in
            if case .started(let job) = event { job.message.projectName } else { nil }
        }
        #expect(claimed.prefix(10).filter { $0 == "urgent-audit" }.count == 8, "\(claimed.prefix(10))")
    }
}

/// What the lanes reported of their breakers.
final class BreakerChanges: Sendable {
    let list = Mutex<[String]>([])
}

extension Array where Element: Sendable {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
