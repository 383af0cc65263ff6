import ArgumentParser
import Foundation
import PixlAPI

/// `pixl-imaging report --project NAME`: a project's reconciliation report from a running service
/// (`GET /projects/{name}/report`), streamed to a file or standard output.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a project's reconciliation report (one row per requested study) from a running service.",
        discussion: """
            The report holds MRNs and accession numbers: it is for the data manager. The file is written under \
            FILE.partial and renamed to FILE once complete. Exit status: 0 written, 1 when the service refused or \
            the project has no jobs.
            """
    )

    @Option(help: "The project's name, as its messages carry it.")
    var project: String

    @Option(help: "csv (default) or json.")
    var format: String = ProjectReport.Format.csv.rawValue

    @Option(help: "Where to write the report ('-' for standard output, the default).")
    var output: String = "-"

    @Option(help: "The service's base URL.")
    var url: String = "http://127.0.0.1:8000"

    @Option(help: "Bearer token (default: $PIXL_IMAGING_API_TOKEN).")
    var token: String?

    func validate() throws {
        guard (1...64).contains(project.count) else { throw ValidationError("--project must be 1 to 64 characters") }
        guard ProjectReport.Format(rawValue: format) != nil else { throw ValidationError("--format must be csv or json") }
        guard URL(string: url)?.scheme != nil else { throw ValidationError("--url must be a URL such as http://127.0.0.1:8000") }
    }

    func run() async throws {
        let client = ServiceClient(
            baseURL: url.hasSuffix("/") ? String(url.dropLast()) : url,
            token: token ?? ProcessInfo.processInfo.environment["PIXL_IMAGING_API_TOKEN"]
        )
        let name = project.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? project
        let (status, answer) = try await client.download("/projects/\(name)/report?format=\(format)", to: output)
        guard status == 200 else {
            Terminal.line("the service answered \(status): \(answer ?? "")")
            throw ExitCode(1)
        }
        if output != "-" { Terminal.line("report written to \(output)") }
    }
}
