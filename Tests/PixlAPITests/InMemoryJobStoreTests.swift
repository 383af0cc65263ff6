import Foundation
import PixlCore
import PixlTesting
import Testing

/// The in-memory store follows the JobStore protocol's documented semantics (the API tests rely on it).
struct InMemoryJobStoreTests {
    private let t0 = Date(timeIntervalSince1970: 1_700_000_000)

    private func message(_ mrn: String = "M") throws -> ImagingMessage {
        try MinimalPlainJSONMessageForTests.decode(APITestSupport.message(mrn: mrn))
    }

    @Test func dedupesUnfinishedIdenticalJobsOnly() async throws {
        let store = InMemoryJobStore()
        let first = try await store.enqueue([try message(), try message()], now: t0)
        #expect(first.map(\.isNew) == [true, false])
        #expect(first[0].job.id == first[1].job.id)
        let claimed = try #require(try await store.claimNext(now: t0, lease: .seconds(60)))
        try await store.record(.succeeded(archive: .primary, orthancIDs: ["s1"]), for: claimed.id, now: t0)
        let again = try await store.enqueue([try message()], now: t0.addingTimeInterval(1))
        #expect(again[0].isNew)
        #expect(again[0].job.id != claimed.id)
    }

    @Test func claimLeaseRecordAndRelease() async throws {
        let store = InMemoryJobStore()
        _ = try await store.enqueue([try message("A")], now: t0)
        _ = try await store.enqueue([try message("B")], now: t0.addingTimeInterval(1))
        let a = try #require(try await store.claimNext(now: t0.addingTimeInterval(2), lease: .seconds(10)))
        #expect(a.message.mrn == "A")
        #expect(a.state == .inProgress)
        #expect(a.attempts == 1)
        let b = try #require(try await store.claimNext(now: t0.addingTimeInterval(2), lease: .seconds(10)))
        #expect(b.message.mrn == "B")
        #expect(try await store.claimNext(now: t0.addingTimeInterval(3), lease: .seconds(10)) == nil)
        // An expired lease makes the job claimable again, counting an attempt.
        let reclaimed = try #require(try await store.claimNext(now: t0.addingTimeInterval(13), lease: .seconds(10)))
        #expect(reclaimed.id == a.id)
        #expect(reclaimed.attempts == 2)
        // Retry: due after the back-off.
        let retried = try await store.record(.retry(reason: "Orthanc unavailable"), retryAt: t0.addingTimeInterval(44), for: a.id, now: t0.addingTimeInterval(14))
        #expect(retried.state == .retry)
        #expect(retried.nextAttemptAt == t0.addingTimeInterval(44))
        // Release puts B back without counting the attempt.
        try await store.release(b.id, now: t0.addingTimeInterval(15))
        #expect(try await store.job(id: b.id)?.state == .queued)
        #expect(try await store.job(id: b.id)?.attempts == 0)
        #expect(try await store.nextDueDate() == t0.addingTimeInterval(15))
        let counts = try await store.countsByState()
        #expect(counts[.retry] == 1 && counts[.queued] == 1)
        let discarded = try await store.record(.discarded(reason: "not found"), for: b.id, now: t0.addingTimeInterval(16))
        #expect(discarded.state.isFinal)
        #expect(try await store.jobs(state: nil, project: nil, limit: 10, before: nil).map(\.message.mrn) == ["B", "A"])
    }
}
