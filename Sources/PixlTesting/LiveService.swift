public import Foundation
public import Testing

/// A service that some tests need running on loopback, as `scripts/test` starts it: the Orthanc lab
/// (`scripts/lab`), PostgreSQL (`scripts/postgres`) or RabbitMQ (`scripts/rabbitmq`).
///
/// One policy for all of them: a suite that needs a service runs when the service is up, and always when `CI`
/// is set, where a missing service then fails its tests instead of skipping them.
///
/// ```swift
/// @Suite(.enabled(if: LiveService.postgres.isEnabled, LiveService.postgres.skipMessage))
/// struct PostgresTests {
///     @Test func works() async throws { let settings = try LiveService.postgres.settings() … }
/// }
/// ```
public enum LiveService: String, CaseIterable, Sendable {
    case lab
    case postgres
    case rabbitMQ = "rabbitmq"

    /// The repository this package is in.
    public static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Where the services' scripts keep their state and settings: `$LAB_DIR`, else `<repository>/.lab`.
    public static var directory: URL {
        ProcessInfo.processInfo.environment["LAB_DIR"].map { URL(fileURLWithPath: $0) } ?? repository.appendingPathComponent(".lab")
    }

    /// Whether this run is CI's, where no suite may be skipped for a missing service.
    public static var isCI: Bool {
        let value = ProcessInfo.processInfo.environment["CI"]?.lowercased() ?? ""
        return !value.isEmpty && value != "false" && value != "0"
    }

    /// The settings file the service's script writes once the service is up.
    public var environmentFile: URL { Self.directory.appendingPathComponent("\(rawValue).env") }

    /// The service's settings: its file's, each overridden by a variable of the same name in this process's
    /// environment; `nil` when the service is not up.
    public var environment: [String: String]? {
        guard let text = try? String(contentsOf: environmentFile, encoding: .utf8) else { return nil }
        let process = ProcessInfo.processInfo.environment
        return EnvironmentFile.parse(text).reduce(into: [:]) { settings, entry in settings[entry.key] = process[entry.key] ?? entry.value }
    }

    /// Whether the tests that need the service run (see the type's documentation).
    public var isEnabled: Bool { environment != nil || Self.isCI }

    /// Why the tests that need the service were skipped.
    public var skipMessage: Comment {
        "\(rawValue) is not up (no \(environmentFile.path)): run scripts/\(rawValue) up, or scripts/test"
    }

    /// The service's settings.
    /// - Throws: a failure naming the command that brings the service up.
    public func settings() throws -> [String: String] {
        guard let environment else { throw NotRunning(service: self) }
        return environment
    }

    public struct NotRunning: Error, CustomStringConvertible {
        public var service: LiveService
        public init(service: LiveService) { self.service = service }
        public var description: String { "\(service.skipMessage)" }
    }
}

/// `NAME=value` lines, as the services' scripts write them (`#` comments and blank lines ignored).
public enum EnvironmentFile {
    public static func parse(_ text: String) -> [String: String] {
        var values: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
            let parts = line.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { values[String(parts[0])] = String(parts[1]) }
        }
        return values
    }
}

/// The executables this package builds, for the tests that run them as processes (signals, exit codes, several
/// processes on one database). `scripts/test` builds them before testing.
public enum Executable {
    /// `pixl-imaging`, from the products folder of the running tests, else `<repository>/.build/debug`.
    public static func pixlImaging() throws -> URL {
        var folders = [URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()]
        if let bundle = Bundle.allBundles.first(where: { $0.bundlePath.hasSuffix(".xctest") }) {
            folders.append(bundle.bundleURL.deletingLastPathComponent())
        }
        folders.append(LiveService.repository.appendingPathComponent(".build/debug"))
        for folder in folders {
            let binary = folder.appendingPathComponent("pixl-imaging")
            if FileManager.default.isExecutableFile(atPath: binary.path) { return binary }
        }
        throw Missing(searched: folders.map(\.path))
    }

    public struct Missing: Error, CustomStringConvertible {
        public var searched: [String]
        public var description: String { "no pixl-imaging executable in \(searched): run swift build first (scripts/test does)" }
    }
}
