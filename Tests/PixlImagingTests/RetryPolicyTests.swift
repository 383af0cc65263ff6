import PixlCore
import Testing

struct RetryPolicyTests {
    let policy = RetryPolicy(initialDelay: .seconds(2), maximumDelay: .seconds(60), maxAttempts: 4)

    @Test func delayDoublesPerAttemptUpToTheMaximum() {
        #expect(policy.delay(afterAttempt: 1, jitter: 1) == .seconds(2))
        #expect(policy.delay(afterAttempt: 2, jitter: 1) == .seconds(4))
        #expect(policy.delay(afterAttempt: 5, jitter: 1) == .seconds(32))
        #expect(policy.delay(afterAttempt: 6, jitter: 1) == .seconds(60))
        #expect(policy.delay(afterAttempt: 1_000, jitter: 1) == .seconds(60))
    }

    @Test func jitterSpreadsDelaysBetweenHalfAndAll() {
        let delays = (0..<200).map { _ in policy.delay(afterAttempt: 3) }
        #expect(delays.allSatisfy { $0 >= .seconds(4) && $0 <= .seconds(8) })
        #expect(Set(delays).count > 100)
    }

    @Test func retriesStopAtTheAttemptBudget() {
        #expect(policy.allowsRetry(afterAttempt: 3))
        #expect(!policy.allowsRetry(afterAttempt: 4))
    }
}
