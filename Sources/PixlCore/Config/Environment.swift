public import Foundation

/// Environment variables, with a `.env` file's values underneath: the process environment wins (SPEC §6).
public struct Environment: Sendable {
    public var values: [String: String]

    public init(_ values: [String: String]) {
        self.values = values
    }

    /// The process environment over the `.env` file in `directory` (when there is one).
    /// - Throws: ``ConfigurationError`` when the `.env` file exists but a line cannot be read.
    public static func load(dotEnvIn directory: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)) throws -> Environment {
        let file = directory.appendingPathComponent(".env")
        var values: [String: String] = [:]
        if let text = try? String(contentsOf: file, encoding: .utf8) {
            values = try parseDotEnv(text)
        }
        values.merge(ProcessInfo.processInfo.environment) { _, process in process }
        return Environment(values)
    }

    /// Parses `KEY=VALUE` lines; `#` starts a comment line; values may be single- or double-quoted; `export ` is allowed.
    static func parseDotEnv(_ text: String) throws -> [String: String] {
        var values: [String: String] = [:]
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = String(rawLine).trimmingWhitespace()
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst(7)).trimmingWhitespace() }
            guard let equals = line.firstIndex(of: "=") else {
                throw ConfigurationError(variable: ".env line \(number + 1)", problem: "is not KEY=VALUE")
            }
            let key = String(line[..<equals]).trimmingWhitespace()
            var value = String(line[line.index(after: equals)...]).trimmingWhitespace()
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = String(value.dropFirst().dropLast())
            }
            values[key] = value
        }
        return values
    }

    public subscript(_ name: String) -> String? {
        guard let value = values[name], !value.isEmpty else { return nil }
        return value
    }

    // MARK: Typed readers

    public func string(_ name: String, default defaultValue: String) -> String {
        self[name] ?? defaultValue
    }

    public func requiredString(_ name: String) throws(ConfigurationError) -> String {
        guard let value = self[name] else { throw ConfigurationError(variable: name, problem: "is not set") }
        return value
    }

    public func bool(_ name: String, default defaultValue: Bool) throws(ConfigurationError) -> Bool {
        guard let value = self[name] else { return defaultValue }
        switch value.lowercased() {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw ConfigurationError(variable: name, problem: "must be true or false, not '\(value)'")
        }
    }

    public func integer(_ name: String, default defaultValue: Int, range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard let value = self[name] else { return defaultValue }
        guard let number = Int(value), range.contains(number) else {
            throw ConfigurationError(variable: name, problem: "must be an integer from \(range.lowerBound) to \(range.upperBound), not '\(value)'")
        }
        return number
    }

    /// A number of seconds within `range`, which keeps every later computation with it (deadlines, sleeps) in bounds.
    public func seconds(_ name: String, default defaultValue: Double, range: ClosedRange<Double>) throws(ConfigurationError) -> Duration {
        guard let value = self[name] else { return .seconds(defaultValue) }
        guard let number = Self.decimal(value), range.contains(number) else {
            throw ConfigurationError(
                variable: name,
                problem: "must be a number of seconds from \(range.lowerBound.formatted) to \(range.upperBound.formatted), not '\(value)'"
            )
        }
        return .seconds(number)
    }

    /// A decimal number (`12`, `0.5`, `1e3`), not the hexadecimal or named forms `Double(_:)` also reads (`0x10`,
    /// `nan`, `inf`).
    public static func decimal(_ text: String) -> Double? {
        guard !text.isEmpty, text.utf8.allSatisfy({ (0x30...0x39).contains($0) || "+-.eE".utf8.contains($0) }) else { return nil }
        return Double(text)
    }

    public func url(_ name: String, default defaultValue: String? = nil) throws(ConfigurationError) -> URL {
        guard let text = self[name] ?? defaultValue else { throw ConfigurationError(variable: name, problem: "is not set") }
        guard let url = URL(string: text), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
            throw ConfigurationError(variable: name, problem: "must be an http:// or https:// URL")
        }
        return url
    }
}

extension Double {
    /// `3600` rather than `3600.0`, `0.1` as itself: how a bound reads in a message.
    var formatted: String { self == rounded() && abs(self) < 1e15 ? String(Int64(self)) : String(self) }
}

/// A configuration value that stops start-up. ``description`` is the one line printed: the variable and what is wrong.
public struct ConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    public var variable: String
    public var problem: String

    public init(variable: String, problem: String) {
        self.variable = variable
        self.problem = problem
    }

    public var description: String { "\(variable) \(problem)" }
}
