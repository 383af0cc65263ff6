import PixlCore
import PixlImaging
import PixlTesting
import Testing

/// SPEC §3 step 1 on a `MockClock`: back-pressure returns when orthanc-raw has no `Pending` job; while it
/// has one, it looks again after a short poll or as soon as one of our own Orthanc jobs ends, whichever
/// comes first; it waits out transient errors with a back-off.
struct BackPressureTests {
    typealias F = PipelineFixtures
    let logger = F.logger
    let poll = ArchivePipeline<FakeOrthanc>.busyPollInterval

    @Test(.timeLimit(.minutes(1)))
    func returnsAtOnceWhenNothingIsPending() async throws {
        let orthanc = FakeOrthanc()
        await orthanc.setOtherJobs([OrthancJob(id: "running", state: .running), OrthancJob(id: "done", state: .success)])
        let clock = MockClock()
        let pipeline = ArchivePipeline(orthanc: orthanc, configuration: try F.configuration(), clock: clock)
        try await pipeline.waitWhileOrthancIsBusy(logger: logger)
        #expect(await Self.listings(orthanc) == 1)
        #expect(clock.now == MockClock.Instant(offset: .zero))
    }

    @Test(.timeLimit(.minutes(1)))
    func looksAgainAfterTheShortPollWhilePending() async throws {
        let orthanc = FakeOrthanc()
        await orthanc.setOtherJobs([OrthancJob(id: "theirs", state: .pending)])
        let clock = MockClock()
        let pipeline = ArchivePipeline(orthanc: orthanc, configuration: try F.configuration(), clock: clock)
        let waiter = Task { try await pipeline.waitWhileOrthancIsBusy(logger: logger) }
        // A fixed poll, not a back-off: each look comes one interval after the last, no sooner.
        await Self.expectLooks(after: Array(repeating: poll, count: 10), clock: clock, orthanc: orthanc)
        await clock.waitForSleepers(1)
        await orthanc.setOtherJobs([OrthancJob(id: "theirs", state: .running)])
        clock.advance(by: poll)
        try await waiter.value
        #expect(await Self.listings(orthanc) == 12)
        #expect(clock.now == MockClock.Instant(offset: poll * 11))
    }

    @Test(.timeLimit(.minutes(1)))
    func looksAgainAsSoonAsAJobOfOursEnds() async throws {
        let orthanc = FakeOrthanc()
        await orthanc.setArchive(F.primary, [F.study])
        await orthanc.setOtherJobs([OrthancJob(id: "theirs", state: .pending)])
        let clock = MockClock()
        let pipeline = ArchivePipeline(orthanc: orthanc, configuration: try F.configuration(), clock: clock)
        let waiter = Task { try await pipeline.waitWhileOrthancIsBusy(logger: logger) }
        await clock.waitForSleepers(1)
        #expect(await Self.listings(orthanc) == 1)
        // Another worker's C-MOVE and tag jobs end, and orthanc-raw starts the pending job in the freed slot.
        await orthanc.setOtherJobs([OrthancJob(id: "theirs", state: .running)])
        #expect(await pipeline.process(F.message, logger: logger).succeededStudyIDs == ["raw-1.2.3"])
        // The waiter looks again with the clock still at zero, well before the poll interval.
        let looked = await Self.eventually { await Self.listings(orthanc) == 2 }
        #expect(looked)
        #expect(clock.now == MockClock.Instant(offset: .zero))
        // Frees a waiter that missed the event, so that a failure ends instead of hanging.
        clock.advance(by: .seconds(10))
        try await waiter.value
    }

    @Test(.timeLimit(.minutes(1)))
    func waitsOutTransientErrorsWithABackOff() async throws {
        let orthanc = FakeOrthanc()
        await orthanc.setFailure(OrthancError(code: .connection, request: "GET /jobs"))
        let clock = MockClock()
        let pipeline = ArchivePipeline(orthanc: orthanc, configuration: try F.configuration(), clock: clock)
        let waiter = Task { try await pipeline.waitWhileOrthancIsBusy(logger: logger) }
        // Unreachable counts as busy; the looks back off from 50 ms, ×1.5 a look, to 1 s.
        let backOff = sequence(first: Duration.milliseconds(50)) { min($0 * 1.5, .seconds(1)) }
        await Self.expectLooks(after: Array(backOff.prefix(10)), clock: clock, orthanc: orthanc)
        await clock.waitForSleepers(1)
        await orthanc.setFailure(nil)
        clock.advance(by: .seconds(1))
        try await waiter.value
        #expect(await Self.listings(orthanc) == 12)
    }

    /// Steps the clock through looks at orthanc-raw's job list: the `n`th comes `waits[n]` after the one before it, and
    /// not a millisecond sooner.
    private static func expectLooks(after waits: [Duration], clock: MockClock, orthanc: FakeOrthanc) async {
        for (index, wait) in waits.enumerated() {
            await clock.waitForSleepers(1)
            #expect(await listings(orthanc) == index + 1)
            clock.advance(by: wait - .milliseconds(1))
            #expect(clock.sleeperCount == 1)
            clock.advance(by: .milliseconds(1))
        }
    }

    /// How many times orthanc-raw was asked for its job list (`GET /jobs`, not one job's `GET /jobs/{id}`).
    private static func listings(_ orthanc: FakeOrthanc) async -> Int {
        await orthanc.calls.filter { $0 == "GET /jobs" }.count
    }

    /// Yields, never sleeping, until `condition` holds or `maxYields` have passed; whether it held.
    private static func eventually(maxYields: Int = 100_000, _ condition: () async -> Bool) async -> Bool {
        for _ in 0..<maxYields {
            if await condition() { return true }
            await Task.yield()
        }
        return await condition()
    }
}
