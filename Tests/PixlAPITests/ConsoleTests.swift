import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PixlAPI
import PixlCore
import PixlTesting
import Testing

/// The web console at `/ui` through the router (issue 14): the token traded for an `HttpOnly`, `SameSite=Strict`
/// session cookie; every action refused without the session's CSRF token and done with it; identifiers masked unless
/// the console is told to show them. The browser test (scripts/browser) drives the same pages in Chromium.
struct ConsoleTests {
    static let token = "console-test-token"
    private let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]

    func store() async throws -> (InMemoryJobStore, Job) {
        let store = InMemoryJobStore()
        let jobs = try await store.enqueue((0..<3).map { ImagingMessage.synthetic($0, project: "audit") }, now: Date())
        let claim = try #require(try await store.claimNext(in: .primary, now: Date(), lease: .seconds(60)))
        try await store.record(JobResult(.failed(error: "boom")), for: claim, now: Date())
        return (store, jobs[0].job)
    }

    /// Logs in and returns the session cookie and the CSRF token the dashboard's forms carry.
    func logIn(_ client: some TestClientProtocol) async throws -> (cookie: String, csrf: String) {
        let login = try await client.execute(uri: "/ui/login", method: .post, headers: form, body: ByteBuffer(string: "token=\(Self.token)"))
        #expect(login.status == .seeOther && login.headers[.location] == "/ui")
        let setCookie = try #require(login.headers[.setCookie])
        #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict") && setCookie.contains("Path=/ui"))
        let cookie = String(setCookie.split(separator: ";")[0])
        let page = String(buffer: try await client.execute(uri: "/ui", method: .get, headers: [.cookie: cookie]).body)
        let marker = try #require(page.range(of: "name=\"csrf\" value=\""))
        return (cookie, String(page[marker.upperBound...].prefix(43)))
    }

    @Test func theTokenOpensASessionAndTheDashboardShowsTheCohort() async throws {
        let (store, _) = try await store()
        let app = try APITestSupport.makeApplication(store: store, configuration: APIConfiguration(apiToken: Self.token))
        try await app.test(.router) { client in
            let anonymous = try await client.execute(uri: "/ui", method: .get)
            #expect(anonymous.status == .seeOther && anonymous.headers[.location] == "/ui/login")
            let wrong = try await client.execute(uri: "/ui/login", method: .post, headers: form, body: ByteBuffer(string: "token=guess"))
            #expect(wrong.status == .unauthorized && wrong.headers[.setCookie] == nil)
            #expect(try await client.execute(uri: "/ui/panel", method: .get).status == .unauthorized)

            let (cookie, csrf) = try await logIn(client)
            #expect(csrf.count == 43)
            let page = try await client.execute(uri: "/ui", method: .get, headers: [.cookie: cookie])
            #expect(page.status == .ok && page.headers[.contentType] == "text/html; charset=utf-8")
            #expect(page.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true)
            let html = String(buffer: page.body)
            #expect(html.contains("data-project=\"audit\"") && html.contains("failed 1") && html.contains("waiting 2"))
            #expect(html.contains("data-lane=\"primary\"") && html.contains("boom"))
            #expect(!html.contains("http://") && !html.contains("https://"), "nothing loaded from elsewhere")
            let panel = try await client.execute(uri: "/ui/panel", method: .get, headers: [.cookie: cookie])
            #expect(panel.status == .ok && String(buffer: panel.body).contains("data-project=\"audit\""))

            let logout = try await client.execute(
                uri: "/ui/logout", method: .post, headers: [.contentType: "application/x-www-form-urlencoded", .cookie: cookie], body: ByteBuffer(string: "csrf=\(csrf)")
            )
            #expect(logout.status == .seeOther)
            #expect(try await client.execute(uri: "/ui", method: .get, headers: [.cookie: cookie]).status == .seeOther)
        }
    }

    @Test func everyActionNeedsTheSessionsCSRFToken() async throws {
        let (store, _) = try await store()
        let lanes = try Lanes.testing(rate: 1, clock: MockClock())
        let app = try APITestSupport.makeApplication(store: store, lanes: lanes, configuration: APIConfiguration(apiToken: Self.token))
        try await app.test(.router) { client in
            let (cookie, csrf) = try await logIn(client)
            let headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded", .cookie: cookie]
            for body in ["", "csrf=forged"] {
                let refused = try await client.execute(uri: "/ui/lanes/primary/pause", method: .post, headers: headers, body: ByteBuffer(string: body))
                #expect(refused.status == .forbidden)
            }
            let noCookie = try await client.execute(uri: "/ui/lanes/primary/pause", method: .post, headers: form, body: ByteBuffer(string: "csrf=\(csrf)"))
            #expect(noCookie.status == .forbidden)
            #expect(!lanes.primary.isPaused)

            let pause = try await client.execute(uri: "/ui/lanes/primary/pause", method: .post, headers: headers, body: ByteBuffer(string: "csrf=\(csrf)"))
            #expect(pause.status == .seeOther && lanes.primary.isPaused && !lanes.secondary.isPaused)
            _ = try await client.execute(uri: "/ui/lanes/primary/resume", method: .post, headers: headers, body: ByteBuffer(string: "csrf=\(csrf)"))
            #expect(!lanes.primary.isPaused)

            let retry = try await client.execute(
                uri: "/ui/projects/audit/retry-failed", method: .post, headers: headers, body: ByteBuffer(string: "csrf=\(csrf)")
            )
            #expect(retry.status == .seeOther)
            #expect(try await store.counts().byProject["audit"]?[.failed] ?? 0 == 0)
            _ = try await client.execute(uri: "/ui/projects/audit/cancel-waiting", method: .post, headers: headers, body: ByteBuffer(string: "csrf=\(csrf)"))
            #expect(try await store.counts().byProject["audit"]?[.discarded] == 3)
        }
    }

    @Test(arguments: [false, true])
    func aJobsPageMasksIdentifiersUnlessTold(show: Bool) async throws {
        let (store, job) = try await store()
        let app = try APITestSupport.makeApplication(store: store, configuration: APIConfiguration(consoleShowsIdentifiers: show))
        try await app.test(.router) { client in
            // Without a token the console opens a session at once.
            let dashboard = try await client.execute(uri: "/ui", method: .get)
            let cookie = String(try #require(dashboard.headers[.setCookie]).split(separator: ";")[0])
            let page = try await client.execute(uri: "/ui/jobs/\(job.id.uuidString.lowercased())", method: .get, headers: [.cookie: cookie])
            #expect(page.status == .ok)
            let html = String(buffer: page.body)
            #expect(html.contains(job.message.mrn) == show && html.contains(job.message.accessionNumber) == show)
            #expect(html.contains("(hidden)") == !show)
            #expect(html.contains(job.message.studyUID) && html.contains("failed"))
            let report = try await client.execute(uri: "/ui/projects/audit/report", method: .get, headers: [.cookie: cookie])
            #expect(report.status == .ok && String(buffer: report.body).hasPrefix("job_id,"))
        }
    }
}
