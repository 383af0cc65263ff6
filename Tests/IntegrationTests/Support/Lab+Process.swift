import Foundation
import PixlTesting

extension Lab {
    /// What `pixl-imaging process` did: its exit status, standard output (the job, or `{"detail": …}`) and error.
    struct ProcessRun {
        var status: Int32
        var output: String
        var errors: String
    }

    /// Runs `pixl-imaging process` on `message`, written to a file in `directory`, with the lab's settings,
    /// `PIXL_SECONDARY_QUERY_HOURS=always` and `overrides`; nothing else inherited but PATH and HOME.
    func process(_ message: [String: Any], _ overrides: [String: String] = [:], in directory: URL) throws -> ProcessRun {
        let file = directory.appendingPathComponent("message-\(UUID().uuidString).json")
        try JSONSerialization.data(withJSONObject: message).write(to: file)
        var environment = self.environment.filter { !$0.key.hasPrefix("LAB_") }
        for key in ["PATH", "HOME"] { environment[key] = ProcessInfo.processInfo.environment[key] }
        environment["PIXL_SECONDARY_QUERY_HOURS"] = "always"
        environment.merge(overrides) { _, new in new }
        return try Self.pixlImaging(["process", file.path], environment: environment, in: directory)
    }

    /// Runs `pixl-imaging` with `arguments` (in `directory`, with `environment` when given: else this process's) and
    /// waits for it to end.
    static func pixlImaging(_ arguments: [String], environment: [String: String]? = nil, in directory: URL? = nil) throws -> ProcessRun {
        let process = Process()
        process.executableURL = try Executable.pixlImaging()
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let directory { process.currentDirectoryURL = directory }
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let printed = output.fileHandleForReading.readDataToEndOfFile()
        let logged = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return ProcessRun(
            status: process.terminationStatus,
            output: String(decoding: printed, as: UTF8.self),
            errors: String(decoding: logged, as: UTF8.self)
        )
    }
}
