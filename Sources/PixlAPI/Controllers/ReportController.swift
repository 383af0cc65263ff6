import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PixlCore

/// `GET /projects/{name}/report`: a project's reconciliation report (``ProjectReport``), CSV or JSON by `?format=` or
/// `Accept`, streamed a page of jobs at a time.
struct ReportController<Store: JobStore> {
    let store: Store
    let deadline: StoreDeadline

    func addRoutes(to routes: Routes<some RouterMethods<APIContext>>) {
        routes.on("/projects/{name}/report", .get, use: report)
    }

    @Sendable func report(_ request: Request, context: APIContext) async throws -> Response {
        try await Self.response(project: try ProjectPath.name(context), format: try Self.format(request), store: store, deadline: deadline, logger: context.logger)
    }

    /// The report of `project` as an attachment, streamed; 404 when the project has no jobs. The console serves it too.
    static func response(project: String, format: ProjectReport.Format, store: Store, deadline: StoreDeadline, logger: Logger) async throws -> Response {
        let counts = try await deadline.run { try await store.counts() }
        guard counts.byProject[project] != nil else { throw APIError(.notFound, "no jobs of this project") }
        var headers = HTTPFields()
        headers[.contentType] = format.contentType
        headers[.contentDisposition] = "attachment; filename=\"\(Self.fileName(project)).\(format.rawValue)\""
        let body = ResponseBody { writer in
            try await ProjectReport.write(
                format,
                pages: { start in try await store.jobs(matching: JobFilter(project: project), from: start, limit: ProjectReport.pageSize) },
                to: { text in try await writer.write(ByteBuffer(string: text)) }
            )
            try await writer.finish(nil)
        }
        logger.info("reconciliation report requested", metadata: ["pixl.project": "\(project)", "pixl.format": "\(format.rawValue)"])
        return Response(status: .ok, headers: headers, body: body)
    }

    /// `?format=csv|json`, else the first of `Accept` that is `text/csv` or `application/json`; CSV by default.
    static func format(_ request: Request) throws -> ProjectReport.Format {
        if let text = request.uri.queryParameters.get("format"), !text.isEmpty {
            guard let format = ProjectReport.Format(rawValue: text.lowercased()) else {
                throw APIError(.unprocessableContent, "format must be csv or json")
            }
            return format
        }
        for type in (request.headers[.accept] ?? "").split(separator: ",") {
            switch type.split(separator: ";")[0].trimmingCharacters(in: " \t").lowercased() {
            case "text/csv": return .csv
            case "application/json": return .json
            default: continue
            }
        }
        return .csv
    }

    /// A file name of the project's letters, digits, `-` and `_` (anything else becomes `_`), then `-report`.
    static func fileName(_ project: String) -> String {
        String(project.unicodeScalars.map { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_".unicodeScalars.contains($0)) ? Character($0) : "_" })
            + "-report"
    }
}
