import Foundation

/// Runs a command to completion for a test (a project script, a Python client) and returns what it printed.
public enum CommandRunner {
    /// A command that exited non-zero, with everything it printed.
    public struct Failure: Error, CustomStringConvertible {
        public var command: String
        public var output: String

        public init(command: String, output: String) {
            self.command = command
            self.output = output
        }

        public var description: String { "\(command) failed: \(output)" }
    }

    /// Runs `executable` with `arguments`, standard output and error together.
    /// - Throws: ``Failure`` when it exits non-zero.
    @discardableResult
    public static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let (status, output) = try status(of: executable, arguments)
        guard status == 0 else {
            throw Failure(command: ([executable] + arguments).joined(separator: " "), output: output)
        }
        return output
    }

    /// Runs `executable` with `arguments` (and `environment` instead of this process's, when given) and
    /// returns its exit status and what it printed, standard output and error together.
    public static func status(
        of executable: String,
        _ arguments: [String],
        environment: [String: String]? = nil
    ) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Like ``run(_:_:)``, off the cooperative thread pool (a script may take seconds).
    @discardableResult
    public static func runInBackground(_ executable: String, _ arguments: [String]) async throws -> String {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<String, any Error>) in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try run(executable, arguments) })
            }
        }
    }
}
