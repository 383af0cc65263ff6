import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
@testable import PixlAPI
import PixlCore
import PixlTesting
import Testing

/// A database that does not answer (stopped, frozen) makes requests answer 503 with `Retry-After` within the deadline,
/// and `/ready` say so; `/heart-beat` (liveness) stays OK.
struct StoreDeadlineTests {
    /// A store whose every call waits until cancelled: a database that stopped answering.
    struct StalledStore: JobStore {
        func stall<Result>() async throws -> Result {
            try await Task.sleep(for: .seconds(3600))
            throw CancellationError()
        }
        func enqueue(_ messages: [ImagingMessage], now: Date) async throws -> [EnqueuedJob] { try await stall() }
        func claimNext(in lane: Lane, projectOrder: [String], now: Date, lease: Duration) async throws -> Claim? { try await stall() }
        func renewLease(of claim: Claim, now: Date, lease: Duration) async throws { try await stall() as Void }
        func record(_ result: JobResult, for claim: Claim, now: Date) async throws -> Job { try await stall() }
        func release(_ claim: Claim, now: Date) async throws { try await stall() as Void }
        func job(id: UUID) async throws -> Job? { try await stall() }
        func latestJob(for identity: ImagingMessage.Identity) async throws -> Job? { try await stall() }
        func jobs(matching filter: JobFilter, from start: PageStart, limit: Int) async throws -> JobPage { try await stall() }
        func counts() async throws -> JobCounts { try await stall() }
        func retryFailed(project: String, now: Date, limit: Int) async throws -> Int { try await stall() }
        func cancelWaiting(project: String, now: Date, limit: Int) async throws -> Int { try await stall() }
        func ping() async throws { try await stall() as Void }
        func nextDueDate(in lane: Lane) async throws -> Date? { try await stall() }
    }

    @Test(.timeLimit(.minutes(1)))
    func aStalledDatabaseAnswers503WithRetryAfter() async throws {
        let events = JobEvents()
        let router = buildRouter(
            store: StalledStore(), lanes: try .testing(rate: 0, clock: MockClock()), events: events,
            activity: WorkerActivity(maxInFlight: 1, events: events), metrics: PixlMetrics(),
            configuration: APIConfiguration(storeDeadline: .milliseconds(200))
        )
        try await Application(router: router).test(.router) { client in
            for (path, method, body) in [
                ("/messages", HTTPRequest.Method.post, ImagingMessage.synthetic(1).plainJSON()),
                ("/messages", .get, nil), ("/messages/7d0f5a8e-0000-4000-8000-000000000000", .get, nil), ("/status", .get, nil),
            ] as [(String, HTTPRequest.Method, String?)] {
                let started = ContinuousClock.now
                let response = try await client.execute(
                    uri: path, method: method, headers: [.contentType: "application/json"], body: body.map { ByteBuffer(string: $0) }
                )
                #expect(response.status == .serviceUnavailable, "\(method) \(path)")
                #expect(response.headers[.retryAfter] == "1", "\(method) \(path)")
                // The store would answer in an hour: anything near the deadline, however loaded the machine, proves it.
                #expect(ContinuousClock.now - started < .seconds(60), "\(method) \(path) waited for the store")
            }
            let ready = try await client.execute(uri: "/ready", method: .get)
            #expect(ready.status == .serviceUnavailable)
            #expect(String(buffer: ready.body) == #"{"ready":false,"checks":{"database":"unavailable"}}"#)
            #expect(try await client.execute(uri: "/heart-beat", method: .get).status == .ok)
            #expect(try await client.execute(uri: "/metrics", method: .get).status == .ok)
        }
    }
}
