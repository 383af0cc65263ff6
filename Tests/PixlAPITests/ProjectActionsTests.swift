import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PixlAPI
import PixlCore
import PixlTesting
import Testing

/// The operator's actions on a project over HTTP (issue 14; what the console's buttons call): retry its failed jobs,
/// cancel its waiting ones; each answers how many jobs it changed, wakes the workers when there is work, and is refused
/// for a project without jobs.
struct ProjectActionsTests {
    @Test func retriesFailedAndCancelsWaitingJobs() async throws {
        let store = InMemoryJobStore()
        let t0 = Date()
        let jobs = try await store.enqueue((0..<2_500).map { ImagingMessage.synthetic($0, project: "audit") }, now: t0).map(\.job)
        // 1,200 failed (more than a batch), the other 1,300 queued.
        for _ in 0..<1_200 {
            let claim = try #require(try await store.claimNext(in: .primary, now: t0, lease: .seconds(60)))
            try await store.record(JobResult(.failed(error: "boom")), for: claim, now: t0)
        }
        let events = JobEvents()
        let recorder = JobEventRecorder(events)
        let app = try APITestSupport.makeApplication(store: store, events: events)
        try await app.test(.router) { client in
            let retry = try await client.execute(uri: "/projects/audit/retry-failed", method: .post)
            #expect(retry.status == .ok)
            #expect(try APITestSupport.object(String(buffer: retry.body))["jobs"] as? Int == 1_200)
            #expect(recorder.events.contains(.enqueued(newJobs: 1_200)), "the workers hear of the work")
            #expect(try await store.counts().byProject["audit"]?[.queued] == 2_500)

            let cancel = try await client.execute(uri: "/projects/audit/cancel-waiting", method: .post)
            #expect(try APITestSupport.object(String(buffer: cancel.body))["jobs"] as? Int == 2_500)
            let discarded = try #require(try await store.job(id: jobs[0].id))
            #expect(discarded.state == .discarded && discarded.reason == "cancelled by the operator")
            let again = try await client.execute(uri: "/projects/audit/cancel-waiting", method: .post)
            #expect(try APITestSupport.object(String(buffer: again.body))["jobs"] as? Int == 0)

            let unknown = try await client.execute(uri: "/projects/nobody/retry-failed", method: .post)
            #expect(unknown.status == .notFound)
            let get = try await client.execute(uri: "/projects/audit/retry-failed", method: .get)
            #expect(get.status == .methodNotAllowed)
        }
    }
}
