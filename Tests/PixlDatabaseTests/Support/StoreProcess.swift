import Foundation
import PixlTesting
import Testing

/// A running `pixl-imaging store …` child process, whose stdout lines are read as they come.
final class StoreProcess: @unchecked Sendable {
    let process = Process()
    private let output = Pipe()
    private let lock = NSLock()
    private var buffer = Data()
    private var lines: [String] = []

    init(_ arguments: [String], environment: [String: String]) throws {
        process.executableURL = try Executable.pixlImaging()
        process.arguments = ["store"] + arguments
        process.environment = environment
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        output.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else { return }
            self.lock.withLock {
                self.buffer.append(data)
                while let newline = self.buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    self.lines.append(String(decoding: self.buffer[self.buffer.startIndex..<newline], as: UTF8.self))
                    self.buffer.removeSubrange(self.buffer.startIndex...newline)
                }
            }
        }
        try process.run()
    }

    var outputLines: [String] { lock.withLock { lines } }

    /// Waits until a line satisfying `predicate` has been printed, or the process exits, or `timeout`.
    func waitForLine(timeout: Duration = .seconds(60), _ predicate: (String) -> Bool) async throws -> String? {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while ContinuousClock.now < deadline {
            if let line = outputLines.first(where: predicate) { return line }
            if !process.isRunning {
                try await Task.sleep(for: .milliseconds(100))
                return outputLines.first(where: predicate)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    /// Waits for the process to exit (polling: `waitUntilExit` would block a concurrency thread).
    func waitForExit(timeout: Duration = .seconds(120)) async throws -> Int32 {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while process.isRunning {
            if ContinuousClock.now > deadline {
                kill(process.processIdentifier, SIGKILL)
                Issue.record("\(process.arguments ?? []) timed out")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        try await Task.sleep(for: .milliseconds(100))  // let the last output arrive
        return process.terminationStatus
    }

    func killHard() {
        kill(process.processIdentifier, SIGKILL)
    }
}
