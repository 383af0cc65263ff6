public import Foundation
import Synchronization

/// A lane's ``ClosedDays``, read from the file an environment variable names (`PIXL_PRIMARY_CALENDAR`,
/// `PIXL_SECONDARY_CALENDAR`) and read again when it changes, without a restart.
///
/// Reading ``closedDays`` looks at the file's attributes at most once per ``checkInterval`` and reads the file again
/// when its modification time, size or inode changed; ``reload()`` reads it at once (for SIGHUP). A file that turns
/// invalid or unreadable after start-up leaves the last good closed days in place: ``lastProblem`` says why, and
/// `onProblem` hears of it once for each change of the file, to log one line.
///
/// ```swift
/// let calendar = try CalendarFile(path: path, variable: "PIXL_SECONDARY_CALENDAR") { problem in
///     logger.warning("keeping the last closed days: \(problem)")
/// }
/// let schedule = LaneSchedule(window: window, closedDays: calendar.closedDays)
/// ```
public final class CalendarFile: Sendable {
    /// What identifies a version of the file's contents without reading it.
    private struct Version: Equatable {
        var size: Int
        var modified: Date
        var inode: UInt64
    }

    /// What the last look at the file found: a version (good or bad), or why it could not be looked at.
    private enum Sighting: Equatable {
        case version(Version)
        case unreadable(ConfigurationError)
    }

    private struct State {
        var closedDays: ClosedDays
        var loadedAt: Date
        var lastSighting: Sighting
        var lastCheck: Date
        var lastProblem: ConfigurationError?
    }

    // MARK: Member variables

    /// How often ``closedDays`` looks at the file's attributes, at most: one second.
    public static let checkInterval: TimeInterval = 1

    /// The file, as the variable gave it.
    public let path: String
    /// The environment variable that named the file, which every ``ConfigurationError`` names.
    public let variable: String
    private let now: @Sendable () -> Date
    private let onProblem: @Sendable (ConfigurationError) -> Void
    private let state: Mutex<State>
    /// Held while the file is read, so that two reads never apply out of order.
    private let reading = Mutex(())

    // MARK: Initialization

    /// Reads and parses the file at once.
    /// - Parameters:
    ///   - path: The file to read: a plain list or an iCalendar text (see ``ClosedDays/parse(_:variable:)``).
    ///   - variable: The environment variable that named it.
    ///   - now: The clock that spaces the checks; tests step it instead of sleeping.
    ///   - onProblem: Called, outside any lock, once for each change that leaves the file unusable after start-up.
    /// - Throws: ``ConfigurationError`` naming `variable` when the file is missing, unreadable, not a regular file,
    ///   larger than ``ClosedDays/maximumTextSize``, not UTF-8, or invalid.
    public init(
        path: String,
        variable: String,
        now: @escaping @Sendable () -> Date = { Date() },
        onProblem: @escaping @Sendable (ConfigurationError) -> Void = { _ in }
    ) throws(ConfigurationError) {
        self.path = path
        self.variable = variable
        self.now = now
        self.onProblem = onProblem
        let version = try Self.version(of: path, variable: variable)
        let closedDays = try Self.read(path, variable: variable)
        let start = now()
        state = Mutex(State(closedDays: closedDays, loadedAt: start, lastSighting: .version(version), lastCheck: start))
    }

    // MARK: Methods

    /// The closed days now: those of the file when it last read well, read again first when the file changed and
    /// ``checkInterval`` has passed since the last look.
    public var closedDays: ClosedDays {
        let now = self.now()
        let isDue = state.withLock { state in
            // A clock that went back counts as due, so that a step back does not stop the checks.
            guard now < state.lastCheck || now.timeIntervalSince(state.lastCheck) >= Self.checkInterval else { return false }
            state.lastCheck = now
            return true
        }
        if isDue { refresh(always: false) }
        return state.withLock { $0.closedDays }
    }

    /// When the closed days in use were read.
    public var loadedAt: Date { state.withLock { $0.loadedAt } }

    /// Why the file, as last read, is not in use; `nil` while the closed days in use are the file's contents.
    public var lastProblem: ConfigurationError? { state.withLock { $0.lastProblem } }

    /// Reads the file now, changed or not (for SIGHUP).
    /// - Returns: The closed days read, now in use; or the problem, the last good closed days staying in use.
    @discardableResult
    public func reload() -> Result<ClosedDays, ConfigurationError> {
        let now = self.now()
        state.withLock { $0.lastCheck = now }
        return refresh(always: true)
    }

    /// Looks at the file and reads it when it changed (or `always`), then reports a new problem.
    @discardableResult
    private func refresh(always: Bool) -> Result<ClosedDays, ConfigurationError> {
        let (result, newProblem) = reading.withLock { _ in examine(always: always) }
        if let newProblem { onProblem(newProblem) }
        return result
    }

    /// Reads the file when it changed (or `always`) and puts what came of it in ``state``; called holding `reading`.
    /// - Returns: The closed days read or the problem met, and that problem again when it is news.
    private func examine(always: Bool) -> (Result<ClosedDays, ConfigurationError>, newProblem: ConfigurationError?) {
        let sighting: Sighting
        let result: Result<ClosedDays, ConfigurationError>
        switch Result(catching: { () throws(ConfigurationError) in try Self.version(of: path, variable: variable) }) {
        case .failure(let problem):
            sighting = .unreadable(problem)
            result = .failure(problem)
        case .success(let version):
            sighting = .version(version)
            let unchanged: Result<ClosedDays, ConfigurationError>? = state.withLock { state in
                guard state.lastSighting == sighting else { return nil }
                if let problem = state.lastProblem { return .failure(problem) }
                return .success(state.closedDays)
            }
            if !always, let unchanged { return (unchanged, nil) }
            result = Result { () throws(ConfigurationError) in try Self.read(path, variable: variable) }
        }
        let loadedAt = now()
        return state.withLock { state in
            let isNewSighting = state.lastSighting != sighting
            state.lastSighting = sighting
            switch result {
            case .success(let closedDays):
                state.closedDays = closedDays
                state.loadedAt = loadedAt
                state.lastProblem = nil
                return (result, nil)
            case .failure(let problem):
                let isNews = isNewSighting || state.lastProblem != problem
                state.lastProblem = problem
                return (result, isNews ? problem : nil)
            }
        }
    }

    // MARK: Reading

    private static func version(of path: String, variable: String) throws(ConfigurationError) -> Version {
        let attributes: [FileAttributeKey: Any]
        do {
            attributes = try FileManager.default.attributesOfItem(atPath: path)
        } catch {
            throw unreadable(path, variable: variable, error)
        }
        guard attributes[.type] as? FileAttributeType == .typeRegular else {
            throw ConfigurationError(variable: variable, problem: "names \(path), which is not a regular file")
        }
        return Version(
            size: (attributes[.size] as? NSNumber)?.intValue ?? 0,
            modified: attributes[.modificationDate] as? Date ?? .distantPast,
            inode: (attributes[.systemFileNumber] as? NSNumber)?.uint64Value ?? 0
        )
    }

    /// Reads at most one byte more than ``ClosedDays/maximumTextSize``, so a file that grew past it is refused unread.
    private static func read(_ path: String, variable: String) throws(ConfigurationError) -> ClosedDays {
        let data: Data
        do {
            let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            defer { try? handle.close() }
            data = try handle.read(upToCount: ClosedDays.maximumTextSize + 1) ?? Data()
        } catch {
            throw unreadable(path, variable: variable, error)
        }
        guard data.count <= ClosedDays.maximumTextSize else {
            throw ConfigurationError(variable: variable, problem: "names \(path), which is larger than 1 MiB")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigurationError(variable: variable, problem: "names \(path), which is not UTF-8 text")
        }
        return try ClosedDays.parse(text, variable: variable)
    }

    /// `names PATH, which cannot be read (No such file or directory)`: the system's reason when there is one.
    private static func unreadable(_ path: String, variable: String, _ error: any Error) -> ConfigurationError {
        let cause = (error as? CocoaError)?.underlying.map { $0 as NSError } ?? error as NSError
        let reason = cause.domain == NSPOSIXErrorDomain ? String(cString: strerror(Int32(cause.code))) : cause.localizedDescription
        return ConfigurationError(variable: variable, problem: "names \(path), which cannot be read (\(reason))")
    }
}
