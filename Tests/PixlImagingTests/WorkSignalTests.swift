import PixlCore
import PixlTesting
import Testing

@testable import PixlImaging

/// The signal that lets the claim loop and back-pressure sleep until an event, on a `MockClock`.
struct WorkSignalTests {
    @Test(.timeLimit(.minutes(1)))
    func aNotificationWakesEveryWaiter() async {
        let signal = WorkSignal()
        let clock = MockClock()
        let first = Task { await signal.wait(upTo: .seconds(1), on: clock) }
        let second = Task { await signal.wait(upTo: .seconds(1), on: clock) }
        while signal.waiterCount < 2 { await Task.yield() }
        signal.notify()
        await first.value
        await second.value
        #expect(clock.now == MockClock.Instant(offset: .zero))
    }

    @Test(.timeLimit(.minutes(1)))
    func aNotificationWithNoWaiterWakesTheNextOne() async {
        let signal = WorkSignal()
        let clock = MockClock()
        signal.notify()
        await signal.wait(upTo: .seconds(1), on: clock)
        // Consumed: the next wait lasts until its timeout.
        let next = Task { await signal.wait(upTo: .seconds(1), on: clock) }
        await clock.waitForSleepers(1)
        while signal.waiterCount < 1 { await Task.yield() }
        clock.advance(by: .seconds(1))
        await next.value
        #expect(clock.now == MockClock.Instant(offset: .seconds(1)))
    }

    @Test(.timeLimit(.minutes(1)))
    func aTimeoutEndsOnlyItsOwnWait() async {
        let signal = WorkSignal()
        let clock = MockClock()
        let short = Task { await signal.wait(upTo: .milliseconds(10), on: clock) }
        let long = Task { await signal.wait(upTo: .seconds(1), on: clock) }
        await clock.waitForSleepers(2)
        while signal.waiterCount < 2 { await Task.yield() }
        clock.advance(by: .milliseconds(10))
        await short.value
        #expect(signal.waiterCount == 1 && clock.sleeperCount == 1)
        signal.notify()
        await long.value
        #expect(signal.waiterCount == 0)
    }

    /// Issue 13: each lane's claim loop has its own signal. A notification while neither waits (both busy with the
    /// store) is kept for each, so the loop that waits first cannot take the other's: with one shared signal, the
    /// secondary lane's loop took it, and a posted message waited for the primary's idle poll (p50 100 ms, p99 1 s).
    @Test(.timeLimit(.minutes(1)))
    func aNotificationReachesEveryLanesNextWait() async {
        let signals = LaneSignals()
        let clock = MockClock()
        signals.notify()
        await signals[.secondary].wait(upTo: .seconds(3600), on: clock)
        await signals[.primary].wait(upTo: .seconds(3600), on: clock)
        #expect(clock.now == MockClock.Instant(offset: .zero))
    }
}
