import Foundation
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

    @Test func aRetryIsDueAfterTheBackOffUntilTheBudgetIsSpent() {
        let now = Date(timeIntervalSince1970: 1_750_000_000)
        let retry = policy.result(for: .retry(reason: "Orthanc timeout"), afterAttempt: 3, now: now)
        #expect(retry.state == .retry && retry.reason == "Orthanc timeout")
        let wait = try? #require(retry.nextAttemptAt).timeIntervalSince(now)
        #expect(wait.map { (4...8).contains($0) } == true)

        let spent = policy.result(for: .retry(reason: "Orthanc timeout"), afterAttempt: 4, now: now)
        #expect(spent == JobResult(state: .failed, reason: "gave up after 4 attempts: Orthanc timeout"))
        // Past the budget, the counts of an incomplete study stay with the failure.
        let partial = StudyRecord(orthancID: "s", studyInstanceUID: "1.2.3", archive: .primary, expectedInstances: 6, presentInstances: 1)
        let incomplete = policy.result(for: .retry(reason: "1 of 6 instances", studies: [partial]), afterAttempt: 4, now: now)
        #expect(incomplete == JobResult(state: .failed, reason: "gave up after 4 attempts: 1 of 6 instances", studies: [partial]))
    }

    @Test func otherOutcomesAreRecordedAsTheyAre() {
        let now = Date(timeIntervalSince1970: 1_750_000_000)
        let later = now.addingTimeInterval(3600)
        #expect(policy.result(for: .deferred(until: later, reason: "window"), afterAttempt: 9, now: now).nextAttemptAt == later)
        let study = StudyRecord(orthancID: "s", studyInstanceUID: "1.2.3", archive: .primary, expectedInstances: 1, presentInstances: 1)
        let success = policy.result(for: .succeeded(archive: .primary, studies: [study]), afterAttempt: 9, now: now)
        #expect(success == JobResult(state: .succeeded, archive: .primary, studies: [study]))
    }
}
