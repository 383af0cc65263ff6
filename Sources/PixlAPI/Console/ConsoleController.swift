import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Mustache
import PixlCore

/// The web console at `/ui` (issue 14): server-rendered pages (``ConsoleTemplates``, swift-mustache) over what the API
/// already serves — the store's counts, the lanes, the newest failures, a job — refreshed every 5 s by a few lines of
/// JavaScript, with no external resource. With `PIXL_IMAGING_API_TOKEN` set, a login form trades the token for a
/// session cookie (``ConsoleSessions``); every action is a confirmed POST carrying the session's CSRF token, logged,
/// and the same as an API call. MRNs and accession numbers are hidden unless `PIXL_UI_SHOW_IDENTIFIERS=true`.
struct ConsoleController<Store: JobStore, C: Clock<Duration>> {
    let store: Store
    let lanes: Lanes<C>
    let actions: ProjectActions<Store>
    let activity: WorkerActivity
    let throughput: ConsoleThroughput
    let configuration: APIConfiguration
    let deadline: StoreDeadline
    let sessions = ConsoleSessions()
    let library: MustacheLibrary

    /// Failed and discarded jobs read for the failures table: the newest of each.
    static var failuresScanned: Int { 100 }

    func addRoutes(to routes: Routes<some RouterMethods<APIContext>>) {
        routes.on("/ui", .get, use: dashboard)
        routes.on("/ui/login", .get, use: loginForm)
        routes.on("/ui/login", .post, use: login)
        routes.on("/ui/logout", .post, use: logout)
        routes.on("/ui/panel", .get, use: panel)
        routes.on("/ui/jobs/{id}", .get, use: job)
        routes.on("/ui/projects/{name}/report", .get, use: report)
        routes.on("/ui/projects/{name}/retry-failed", .post, use: retryFailed)
        routes.on("/ui/projects/{name}/cancel-waiting", .post, use: cancelWaiting)
        routes.on("/ui/lanes/{lane}/pause", .post, use: pause)
        routes.on("/ui/lanes/{lane}/resume", .post, use: resume)
    }

    // MARK: Pages

    @Sendable func dashboard(_ request: Request, context: APIContext) async throws -> Response {
        guard let (session, cookie) = currentOrNewSession(request) else { return Self.redirect("/ui/login") }
        let body = try await renderPanel(csrf: session.csrf)
        var response = page("Cohort", body: "<div id=\"panel\">\(body)</div>", csrf: session.csrf, refresh: true)
        if let cookie { response.headers[.setCookie] = cookie }
        return response
    }

    @Sendable func panel(_ request: Request, context: APIContext) async throws -> Response {
        guard let session = sessions.session(cookie: request.headers[.cookie])?.session else {
            return JSONAnswer.detail(.unauthorized, "log in again")
        }
        return html(.ok, try await renderPanel(csrf: session.csrf))
    }

    @Sendable func job(_ request: Request, context: APIContext) async throws -> Response {
        guard let session = sessions.session(cookie: request.headers[.cookie])?.session ?? currentOrNewSession(request)?.0 else {
            return Self.redirect("/ui/login")
        }
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else {
            throw APIError(.unprocessableContent, "not a job id")
        }
        let store = self.store
        guard let job = try await deadline.run({ try await store.job(id: id) }) else { throw APIError(.notFound, "no such job") }
        let body = library.render(ConsoleView.job(job, showIdentifiers: configuration.consoleShowsIdentifiers), withTemplate: "job") ?? ""
        return page("Job", body: body, csrf: session.csrf, refresh: false)
    }

    @Sendable func report(_ request: Request, context: APIContext) async throws -> Response {
        guard sessions.session(cookie: request.headers[.cookie]) != nil || configuration.apiToken == nil else { return Self.redirect("/ui/login") }
        return try await ReportController.response(
            project: try ProjectPath.name(context), format: .csv, store: store, deadline: deadline, logger: context.logger
        )
    }

    // MARK: Logging in and out

    @Sendable func loginForm(_ request: Request, context: APIContext) async throws -> Response {
        guard configuration.apiToken != nil else { return Self.redirect("/ui") }
        return page("Log in", body: library.render([String: Any](), withTemplate: "login") ?? "", csrf: "", refresh: false)
    }

    @Sendable func login(_ request: Request, context: APIContext) async throws -> Response {
        let form = try await Self.form(request)
        guard let token = configuration.apiToken else { return Self.redirect("/ui") }
        guard let given = form["token"], ConsoleSessions.same(given, token) else {
            context.logger.warning("console login refused: wrong token")
            let body = library.render(["error": "That is not the service's token."], withTemplate: "login") ?? ""
            var response = page("Log in", body: body, csrf: "", refresh: false)
            response.status = .unauthorized
            return response
        }
        let (id, _) = sessions.open()
        context.logger.notice("console login")
        var response = Self.redirect("/ui")
        response.headers[.setCookie] = ConsoleSessions.setCookie(id)
        return response
    }

    @Sendable func logout(_ request: Request, context: APIContext) async throws -> Response {
        if let (id, _) = try await authorised(request) { sessions.close(id) }
        var response = Self.redirect(configuration.apiToken == nil ? "/ui" : "/ui/login")
        response.headers[.setCookie] = ConsoleSessions.setCookie(nil)
        return response
    }

    // MARK: Actions: each a POST with the session's CSRF token, logged, then back to the dashboard

    @Sendable func retryFailed(_ request: Request, context: APIContext) async throws -> Response {
        guard try await authorised(request) != nil else { return Self.forbidden }
        _ = try await actions.retryFailed(try ProjectPath.name(context), logger: context.logger)
        return Self.redirect("/ui")
    }

    @Sendable func cancelWaiting(_ request: Request, context: APIContext) async throws -> Response {
        guard try await authorised(request) != nil else { return Self.forbidden }
        _ = try await actions.cancelWaiting(try ProjectPath.name(context), logger: context.logger)
        return Self.redirect("/ui")
    }

    @Sendable func pause(_ request: Request, context: APIContext) async throws -> Response {
        try await setPaused(true, request, context)
    }

    @Sendable func resume(_ request: Request, context: APIContext) async throws -> Response {
        try await setPaused(false, request, context)
    }

    private func setPaused(_ paused: Bool, _ request: Request, _ context: APIContext) async throws -> Response {
        guard try await authorised(request) != nil else { return Self.forbidden }
        guard let lane = context.parameters.get("lane").flatMap(Lane.init(rawValue:)) else { throw APIError(.notFound, "no such lane") }
        lanes[lane].setPaused(paused)
        context.logger.notice("operator \(paused ? "paused" : "resumed") a lane from the console", metadata: [LogKey.lane: "\(lane.rawValue)"])
        return Self.redirect("/ui")
    }

    // MARK: Sessions

    /// The request's session, or, when the console needs no login, a new one (with the cookie to set).
    private func currentOrNewSession(_ request: Request) -> (ConsoleSessions.Session, String?)? {
        if let current = sessions.session(cookie: request.headers[.cookie]) { return (current.session, nil) }
        guard configuration.apiToken == nil else { return nil }
        let (id, session) = sessions.open()
        return (session, ConsoleSessions.setCookie(id))
    }

    /// The session of a POST whose form carries its CSRF token; `nil` otherwise.
    private func authorised(_ request: Request) async throws -> (id: String, session: ConsoleSessions.Session)? {
        guard let current = sessions.session(cookie: request.headers[.cookie]) else { return nil }
        let form = try await Self.form(request)
        guard let csrf = form["csrf"], ConsoleSessions.same(csrf, current.session.csrf) else { return nil }
        return current
    }

    private static var forbidden: Response {
        JSONAnswer.detail(.forbidden, "the console's form is out of date or not from this console: reload it")
    }

    // MARK: Rendering

    private func renderPanel(csrf: String) async throws -> String {
        let store = self.store
        let (counts, failed, discarded) = try await deadline.run {
            (
                try await store.counts(),
                try await store.jobs(matching: JobFilter(state: .failed), from: .newest, limit: Self.failuresScanned).jobs,
                try await store.jobs(matching: JobFilter(state: .discarded), from: .newest, limit: Self.failuresScanned).jobs
            )
        }
        let view = ConsoleView.panel(
            counts: counts, lanes: lanes.all.map { ($0, $0.snapshot()) }, failures: failed + discarded, scanned: Self.failuresScanned,
            throughput: throughput, csrf: csrf
        )
        return library.render(view, withTemplate: "panel") ?? ""
    }

    private func page(_ title: String, body: String, csrf: String, refresh: Bool) -> Response {
        let view: [String: Any] = [
            "title": title, "body": body, "csrf": csrf, "loggedIn": configuration.apiToken != nil && !csrf.isEmpty, "refresh": refresh,
            "subtitle": "\(activity.inFlight) jobs in flight",
        ]
        return html(.ok, library.render(view, withTemplate: "page") ?? "")
    }

    private func html(_ status: HTTPResponse.Status, _ text: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        // The console loads nothing from elsewhere, runs only its own inline script, and is never framed.
        headers[.contentSecurityPolicy] = "default-src 'self'; script-src 'unsafe-inline' 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'"
        return Response(status: status, headers: headers, body: .init(byteBuffer: .init(string: text)))
    }

    private static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    /// An `application/x-www-form-urlencoded` body's fields (at most 64 KiB).
    private static func form(_ request: Request) async throws -> [String: String] {
        let text = String(decoding: try await request.collectBody(upTo: 64 * 1024), as: UTF8.self)
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = parts.first.flatMap({ decode($0) }) else { continue }
            fields[name] = parts.count == 2 ? decode(parts[1]) ?? "" : ""
        }
        return fields
    }

    private static func decode(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}
