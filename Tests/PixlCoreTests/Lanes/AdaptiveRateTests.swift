import PixlCore
import PixlTesting
import Testing

/// The adaptive rate: additive increase while the archive answers within its targets, halving (once per cooldown) when
/// it is slow or fails, never above the configured rate nor below a sixty-fourth of it.
struct AdaptiveRateTests {
    typealias Rate = AdaptiveRate<MockClock.Instant>
    let t0 = MockClock.Instant(offset: .zero)
    let settings = AdaptiveRateSettings(findTarget: .seconds(1), moveTarget: .seconds(30))

    @Test func halvesUnderLatencyAndRecoversAdditively() {
        var rate = Rate(settings: settings, ceiling: 4)
        let unchanged = rate.observe(.find, latency: .milliseconds(200), at: t0)
        #expect(!unchanged, "at the ceiling already")
        let halved = rate.observe(.find, latency: .seconds(3), at: t0)
        #expect(halved)
        #expect(rate.rate == 2)
        rate.observe(.find, latency: .seconds(3), at: t0.advanced(by: .milliseconds(500)))
        #expect(rate.rate == 2, "slow answers within the cooldown count once")
        rate.observe(.move, latency: nil, at: t0.advanced(by: .seconds(2)))
        #expect(rate.rate == 1, "a fault halves it too")
        rate.observe(.move, latency: .seconds(20), at: t0.advanced(by: .seconds(3)))
        #expect(rate.rate == 1.2, "a C-MOVE within its own target adds a twentieth of the ceiling")
        for second in 4..<40 { rate.observe(.find, latency: .milliseconds(100), at: t0.advanced(by: .seconds(second))) }
        #expect(rate.rate == 4, "never above the ceiling")
    }

    @Test func neverFallsBelowASixtyFourthOfTheCeiling() {
        var rate = Rate(settings: settings, ceiling: 8)
        for second in 0..<20 { rate.observe(.find, latency: nil, at: t0.advanced(by: .seconds(second * 2))) }
        #expect(rate.rate == 8.0 / 64)
    }

    @Test func aNewCeilingStartsAgainFromIt() {
        var rate = Rate(settings: settings, ceiling: 4)
        rate.observe(.find, latency: nil, at: t0)
        rate.setCeiling(10)
        #expect(rate.rate == 10 && rate.ceiling == 10)
        let changed = rate.observe(.find, latency: nil, at: t0)
        #expect(changed, "no cooldown carried over")
        #expect(rate.rate == 5)
    }
}
