import Foundation
import HTTPTypes
import Hummingbird
import Logging
import PixlCore

/// The operator's actions on a project over HTTP (issue 14; the web console's buttons do the same): `POST
/// /projects/{name}/retry-failed` puts its failed jobs back to queued with a fresh attempt budget, `POST
/// /projects/{name}/cancel-waiting` ends its waiting jobs as discarded. Each is done in batches of
/// ``ProjectActions/batchSize`` (one transaction each, so a project of a million jobs never holds the database's write
/// lock for long), answers how many jobs it changed, and is logged.
struct ProjectActionsController<Store: JobStore> {
    let actions: ProjectActions<Store>

    func addRoutes(to routes: Routes<some RouterMethods<APIContext>>) {
        routes.on("/projects/{name}/retry-failed", .post, use: retryFailed)
        routes.on("/projects/{name}/cancel-waiting", .post, use: cancelWaiting)
    }

    @Sendable func retryFailed(_ request: Request, context: APIContext) async throws -> Response {
        let project = try ProjectPath.name(context)
        return answer(project, try await actions.retryFailed(project, logger: context.logger))
    }

    @Sendable func cancelWaiting(_ request: Request, context: APIContext) async throws -> Response {
        let project = try ProjectPath.name(context)
        return answer(project, try await actions.cancelWaiting(project, logger: context.logger))
    }

    private func answer(_ project: String, _ changed: Int) -> Response {
        JSONAnswer.json(.ok, JSONValue.object(["project": .string(project), "jobs": .integer(Int64(changed))]).serialized())
    }
}

/// The operator's actions on a project, as the API and the console both do them: in batches, logged.
struct ProjectActions<Store: JobStore>: Sendable {
    let store: Store
    let events: JobEvents
    let deadline: StoreDeadline

    static var batchSize: Int { 1000 }

    func retryFailed(_ project: String, logger: Logger) async throws -> Int {
        let store = self.store
        let changed = try await inBatches(project) { try await store.retryFailed(project: project, now: Date(), limit: Self.batchSize) }
        // The pool hears of new work as it hears of enqueued messages.
        if changed > 0 { events.publish(.enqueued(newJobs: changed)) }
        logger.notice("operator retried the project's failed jobs", metadata: ["pixl.project": "\(project)", "pixl.jobs": "\(changed)"])
        return changed
    }

    func cancelWaiting(_ project: String, logger: Logger) async throws -> Int {
        let store = self.store
        let changed = try await inBatches(project) { try await store.cancelWaiting(project: project, now: Date(), limit: Self.batchSize) }
        logger.notice("operator cancelled the project's waiting jobs", metadata: ["pixl.project": "\(project)", "pixl.jobs": "\(changed)"])
        return changed
    }

    /// Runs `batch` until it changes fewer than a batch's jobs; 404 when the project has no jobs at all.
    private func inBatches(_ project: String, _ batch: @escaping @Sendable () async throws -> Int) async throws -> Int {
        let store = self.store
        guard try await deadline.run({ try await store.counts() }).byProject[project] != nil else {
            throw APIError(.notFound, "no jobs of this project")
        }
        var total = 0
        while true {
            let changed = try await deadline.run(batch)
            total += changed
            if changed < Self.batchSize { return total }
        }
    }

    private func answer(_ project: String, _ changed: Int) -> Response {
        JSONAnswer.json(.ok, JSONValue.object(["project": .string(project), "jobs": .integer(Int64(changed))]).serialized())
    }
}
