import Foundation
import PixlCore
import Synchronization
import Testing

struct CalendarFileTests {
    static let variable = "PIXL_PRIMARY_CALENDAR"

    /// A clock that moves only when told to, for ``CalendarFile``'s `now`.
    final class SteppedTime: Sendable {
        private let current = Mutex(Date(timeIntervalSince1970: 1_790_000_000))
        var now: Date { current.withLock { $0 } }
        func advance(by seconds: TimeInterval) { current.withLock { $0 += seconds } }
    }

    /// The problems a file reported, in order.
    final class Problems: Sendable {
        private let problems = Mutex<[ConfigurationError]>([])
        var all: [ConfigurationError] { problems.withLock { $0 } }
        func record(_ problem: ConfigurationError) { problems.withLock { $0.append(problem) } }
    }

    /// A fresh directory for one test's calendar file, removed after `body`.
    func withCalendarFile(_ text: String, _ body: (String) throws -> Void) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pixl-calendar-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("closed-days.txt").path
        try write(text, to: path)
        try body(path)
    }

    /// Writes in place (same inode), like an editor saving without a rename.
    func write(_ text: String, to path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    func setModified(_ path: String, to date: Date) throws {
        try FileManager.default.setAttributes([.modificationDate: date], ofItemAtPath: path)
    }

    func days(_ text: String) throws -> ClosedDays { try ClosedDays.parse(text, variable: Self.variable) }

    // MARK: Loading

    @Test func loadsAtOnce() throws {
        let time = SteppedTime()
        try withCalendarFile("2026-12-25\n2026-12-28\n") { path in
            let file = try CalendarFile(path: path, variable: Self.variable, now: { time.now })
            #expect(try file.closedDays == days("2026-12-25\n2026-12-28"))
            #expect(file.path == path)
            #expect(file.variable == Self.variable)
            #expect(file.loadedAt == time.now)
            #expect(file.lastProblem == nil)
        }
    }

    @Test func refusesAnUnusableFileAtStartUp() throws {
        try withCalendarFile("2026-12-25\nnot a date\n") { path in
            let invalid = "line 2: 'not a date' is not a date YYYY-MM-DD or a range YYYY-MM-DD..YYYY-MM-DD"
            #expect(throws: ConfigurationError(variable: Self.variable, problem: invalid)) {
                _ = try CalendarFile(path: path, variable: Self.variable)
            }
            let missing = path + ".missing"
            let error = #expect(throws: ConfigurationError.self) { _ = try CalendarFile(path: missing, variable: Self.variable) }
            #expect(error?.variable == Self.variable)
            #expect(error?.problem == "names \(missing), which cannot be read (No such file or directory)")
            let directory = (path as NSString).deletingLastPathComponent
            #expect(throws: ConfigurationError(variable: Self.variable, problem: "names \(directory), which is not a regular file")) {
                _ = try CalendarFile(path: directory, variable: Self.variable)
            }
            try write(String(repeating: "# padding\n", count: 110_000), to: path)
            #expect(throws: ConfigurationError(variable: Self.variable, problem: "names \(path), which is larger than 1 MiB")) {
                _ = try CalendarFile(path: path, variable: Self.variable)
            }
            try Data([0x32, 0x30, 0xFF, 0x0A]).write(to: URL(fileURLWithPath: path))
            #expect(throws: ConfigurationError(variable: Self.variable, problem: "names \(path), which is not UTF-8 text")) {
                _ = try CalendarFile(path: path, variable: Self.variable)
            }
        }
    }

    // MARK: Changes

    @Test func readsAgainWhenTheSizeChanges() throws {
        let time = SteppedTime()
        try withCalendarFile("2026-12-25\n") { path in
            let file = try CalendarFile(path: path, variable: Self.variable, now: { time.now })
            try write("2026-12-25\n2026-12-28\n", to: path)
            time.advance(by: 1.5)
            #expect(try file.closedDays == days("2026-12-25\n2026-12-28"))
            #expect(file.loadedAt == time.now)
        }
    }

    @Test func readsAgainWhenOnlyTheModificationTimeChanges() throws {
        let time = SteppedTime()
        try withCalendarFile("2026-12-25\n") { path in
            let before = Date(timeIntervalSince1970: 1_789_000_000)
            try setModified(path, to: before)
            let file = try CalendarFile(path: path, variable: Self.variable, now: { time.now })
            try write("2026-12-26\n", to: path)  // Same size.
            try setModified(path, to: before.addingTimeInterval(10))
            time.advance(by: 1)
            #expect(try file.closedDays == days("2026-12-26"))
        }
    }

    @Test func looksAtTheFileAtMostOncePerSecond() throws {
        let time = SteppedTime()
        try withCalendarFile("2026-12-25\n") { path in
            let file = try CalendarFile(path: path, variable: Self.variable, now: { time.now })
            let loadedAt = file.loadedAt
            try write("2026-12-25\n2026-12-28\n", to: path)
            time.advance(by: 0.5)
            #expect(try file.closedDays == days("2026-12-25"))
            time.advance(by: 0.49)
            #expect(try file.closedDays == days("2026-12-25"))
            #expect(file.loadedAt == loadedAt)
            time.advance(by: 0.01)
            #expect(try file.closedDays == days("2026-12-25\n2026-12-28"))
            // Read again only on a change: an unchanged file keeps its load time.
            let reloadedAt = file.loadedAt
            time.advance(by: 5)
            _ = file.closedDays
            #expect(file.loadedAt == reloadedAt)
        }
    }

    @Test func keepsTheLastGoodDaysAndReportsEachProblemOnce() throws {
        let time = SteppedTime()
        let problems = Problems()
        try withCalendarFile("2026-12-25\n") { path in
            let file = try CalendarFile(path: path, variable: Self.variable, now: { time.now }, onProblem: problems.record)
            let good = try days("2026-12-25")
            let loadedAt = file.loadedAt

            try write("2026-12-25\n2026-02-30\n", to: path)
            for _ in 0..<3 {
                time.advance(by: 2)
                #expect(file.closedDays == good)
            }
            let invalid = ConfigurationError(
                variable: Self.variable,
                problem: "line 2: '2026-02-30' is not a date YYYY-MM-DD or a range YYYY-MM-DD..YYYY-MM-DD"
            )
            #expect(problems.all == [invalid])
            #expect(file.lastProblem == invalid)
            #expect(file.loadedAt == loadedAt)

            // A second, different breakage is a new problem; gone altogether, another.
            try write("2026-12-25\n2026-12-24..2026-12-01\n", to: path)
            time.advance(by: 2)
            #expect(file.closedDays == good)
            try FileManager.default.removeItem(atPath: path)
            time.advance(by: 2)
            #expect(file.closedDays == good)
            time.advance(by: 2)
            #expect(file.closedDays == good)
            #expect(problems.all.count == 3)
            #expect(problems.all[1].problem.hasPrefix("line 2: '2026-12-24..2026-12-01' ends"))
            #expect(problems.all[2].problem.hasPrefix("names \(path), which cannot be read"))

            // Fixed: in use again, and no problem.
            try write("2027-01-01\n", to: path)
            time.advance(by: 2)
            #expect(try file.closedDays == days("2027-01-01"))
            #expect(file.lastProblem == nil)
            #expect(problems.all.count == 3)
        }
    }

    @Test func reloadReadsAtOnce() throws {
        let time = SteppedTime()
        let problems = Problems()
        try withCalendarFile("2026-12-25\n") { path in
            // Same size and modification time: only reload() can see this change.
            let before = Date(timeIntervalSince1970: 1_789_000_000)
            try setModified(path, to: before)
            let file = try CalendarFile(path: path, variable: Self.variable, now: { time.now }, onProblem: problems.record)
            try write("2026-12-26\n", to: path)
            try setModified(path, to: before)
            time.advance(by: 5)
            #expect(try file.closedDays == days("2026-12-25"))
            #expect(try file.reload().get() == days("2026-12-26"))
            #expect(try file.closedDays == days("2026-12-26"))
            #expect(file.loadedAt == time.now)

            try write("2026-12-26\nbroken\n", to: path)
            let result = file.reload()
            #expect(throws: ConfigurationError.self) { try result.get() }
            #expect(try file.closedDays == days("2026-12-26"))
            #expect(file.lastProblem != nil)
            // The same broken file, looked at again, is not a new problem.
            time.advance(by: 2)
            _ = file.closedDays
            file.reload()
            #expect(problems.all.count == 1)
        }
    }
}
