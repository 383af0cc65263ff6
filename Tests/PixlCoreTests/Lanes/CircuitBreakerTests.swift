import PixlCore
import PixlTesting
import Testing

/// A lane's circuit breaker on instants the test sets: it opens after N consecutive faults, lets one probe through
/// after its back-off, closes on the archive's answer, and backs off twice as long each time the probe fails.
struct CircuitBreakerTests {
    typealias Breaker = CircuitBreaker<MockClock.Instant>
    let t0 = MockClock.Instant(offset: .zero)

    @Test func opensAfterConsecutiveFaultsOnly() {
        var breaker = Breaker(settings: .init(faults: 3, backoff: .seconds(30)))
        breaker.recordFault(at: t0)
        breaker.recordFault(at: t0)
        breaker.recordAnswer()
        breaker.recordFault(at: t0)
        breaker.recordFault(at: t0)
        #expect(breaker.state == .closed && breaker.permission(at: t0) == .claim, "an answer in between starts the count again")
        breaker.recordFault(at: t0)
        #expect(breaker.state == .open(until: t0.advanced(by: .seconds(30))))
        #expect(breaker.permission(at: t0.advanced(by: .seconds(29))) == .wait(until: t0.advanced(by: .seconds(30))))
    }

    @Test func letsOneProbeThroughThenClosesOnAnAnswer() {
        var breaker = Breaker(settings: .init(faults: 1, backoff: .seconds(30)))
        breaker.recordFault(at: t0)
        let later = t0.advanced(by: .seconds(30))
        #expect(breaker.permission(at: later) == .probe)
        #expect(breaker.state == .halfOpen)
        #expect(breaker.permission(at: later) == .wait(until: nil), "one probe at a time")
        breaker.probeEnded()
        #expect(breaker.permission(at: later) == .probe, "a probe that never reached the archive is handed out again")
        breaker.recordAnswer()
        #expect(breaker.state == .closed && breaker.permission(at: later) == .claim && breaker.consecutiveFaults == 0)
    }

    @Test func aFailedProbeDoublesTheBackoffUpToItsLimit() {
        var breaker = Breaker(settings: .init(faults: 2, backoff: .seconds(10), maximumBackoff: .seconds(25)))
        breaker.recordFault(at: t0)
        breaker.recordFault(at: t0)
        var now = t0.advanced(by: .seconds(10))
        for expected in [20, 25, 25] {
            #expect(breaker.permission(at: now) == .probe)
            breaker.recordFault(at: now)
            #expect(breaker.state == .open(until: now.advanced(by: .seconds(expected))))
            now = now.advanced(by: .seconds(expected))
        }
        #expect(breaker.permission(at: now) == .probe)
        breaker.recordAnswer()
        breaker.recordFault(at: now)
        breaker.recordFault(at: now)
        #expect(breaker.state == .open(until: now.advanced(by: .seconds(10))), "after an answer the back-off starts again")
    }

    @Test func faultsOfJobsStartedBeforeTheOpeningChangeNothing() {
        var breaker = Breaker(settings: .init(faults: 1, backoff: .seconds(30)))
        breaker.recordFault(at: t0)
        breaker.recordFault(at: t0.advanced(by: .seconds(5)))
        #expect(breaker.state == .open(until: t0.advanced(by: .seconds(30))))
    }

    @Test func zeroFaultsNeverOpens() {
        var breaker = Breaker(settings: .init(faults: 0))
        for _ in 0..<100 { breaker.recordFault(at: t0) }
        #expect(breaker.state == .closed && breaker.permission(at: t0) == .claim)
    }
}
