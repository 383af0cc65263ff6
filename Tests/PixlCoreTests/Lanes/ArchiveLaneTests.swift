import Logging
import Synchronization
import PixlCore
import PixlTesting
import Testing

/// One lane at run time, on a clock the test moves: its bucket follows the adaptive rate under injected latency and
/// recovers; its breaker's changes are reported once each; pausing and setting the rate act on it alone.
struct ArchiveLaneTests {
    func lanes(_ settings: [String: String], clock: MockClock, changes: Changes? = nil) throws -> Lanes<MockClock> {
        let configuration = try PixlConfiguration.testing(
            ["PIXL_IMAGING_API_RATE": "4", "SECONDARY_DICOM_SOURCE_MODALITY": "PACS", "SECONDARY_DICOM_SOURCE_AE_TITLE": "PACSQR"]
                .merging(settings) { _, new in new }
        )
        return try Lanes(
            configuration: configuration, clock: clock, logger: Logger(label: "test"),
            onBreakerChange: { lane, state in changes?.record("\(lane.rawValue):\(state)") }
        )
    }

    @Test func theAdaptiveRateHalvesUnderInjectedLatencyAndRecovers() async throws {
        let clock = MockClock()
        let lanes = try lanes(["PIXL_PRIMARY_ADAPTIVE": "true", "PIXL_PRIMARY_FIND_TARGET": "1"], clock: clock)
        await lanes.archive(.primary, answered: .find, after: .seconds(3))
        #expect(await lanes.primary.bucket.rate == 2)
        clock.advance(by: .seconds(2))
        await lanes.archive(.primary, answered: .move, after: .seconds(120))
        #expect(await lanes.primary.bucket.rate == 1, "a C-MOVE past its target (60 s) halves it too")
        #expect(await lanes.secondary.bucket.rate == 4, "the other lane is not adaptive and did not hear of it")
        for _ in 0..<15 {
            clock.advance(by: .seconds(1))
            await lanes.archive(.primary, answered: .find, after: .milliseconds(100))
        }
        #expect(await lanes.primary.bucket.rate == 4, "back to the configured rate, never above it")
        let snapshot = lanes.primary.snapshot()
        #expect(snapshot.rate == 4 && snapshot.configuredRate == 4 && snapshot.adaptive)
    }

    @Test func aLaneWithoutAdaptiveRateKeepsItsRate() async throws {
        let lanes = try lanes([:], clock: MockClock())
        await lanes.archive(.primary, faulted: .find, after: .seconds(30))
        #expect(await lanes.primary.bucket.rate == 4)
    }

    @Test func eachArchiveHasItsOwnBreaker() async throws {
        let clock = MockClock()
        let changes = Changes()
        let lanes = try lanes(["PIXL_SECONDARY_BREAKER_FAULTS": "2", "PIXL_SECONDARY_BREAKER_BACKOFF": "60"], clock: clock, changes: changes)
        await lanes.archive(.secondary, faulted: .find, after: .seconds(10))
        await lanes.archive(.secondary, faulted: .move, after: .seconds(10))
        await lanes.archive(.local, faulted: .find, after: .seconds(10))
        #expect(lanes.secondary.snapshot().breaker == "open" && lanes.primary.snapshot().breaker == "closed")
        #expect(lanes.primary.breakerPermission() == .claim)
        clock.advance(by: .seconds(60))
        #expect(lanes.secondary.breakerPermission() == .probe)
        await lanes.archive(.secondary, answered: .find, after: .milliseconds(50))
        #expect(changes.all == ["secondary:open", "secondary:half_open", "secondary:closed"])
    }

    @Test func pauseAndRateActOnOneLane() async throws {
        let lanes = try lanes(["PIXL_PRIMARY_ADAPTIVE": "true"], clock: MockClock())
        lanes.secondary.setPaused(true)
        try await lanes.primary.setRate(0.5)
        #expect(lanes.secondary.isPaused && !lanes.primary.isPaused)
        #expect(await lanes.primary.bucket.rate == 0.5 && lanes.primary.snapshot().configuredRate == 0.5)
        #expect(await lanes.secondary.bucket.rate == 4)
        await #expect(throws: InvalidRateError.self) { try await lanes.primary.setRate(-1) }
        try await lanes.setRate(2)
        #expect(await lanes.primary.bucket.rate == 2)
        #expect(await lanes.secondary.bucket.rate == 2)
        #expect(lanes.secondary.isPaused, "PIXL's rate endpoint sets rates, not the pause")
    }
}

/// What the lanes reported of their breakers, as `lane:state`.
final class Changes: Sendable {
    private let list = Mutex<[String]>([])
    func record(_ change: String) { list.withLock { $0.append(change) } }
    var all: [String] { list.withLock { $0 } }
}
