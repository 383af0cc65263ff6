import Foundation
import PixlCore
import Synchronization

/// Jobs this process's workers finished per project in each of the last 60 minutes, heard from ``JobEvents``: the
/// console's throughput chart and time to finish, without reading the store (a million jobs cost nothing here).
final class ConsoleThroughput: Sendable {
    static let minutes = 60

    private struct State {
        /// Per project, finished jobs by minute (minutes since the epoch).
        var byProject: [String: [Int: Int]] = [:]
    }

    private let state = Mutex(State())
    private let now: @Sendable () -> Date

    init(events: JobEvents, now: @escaping @Sendable () -> Date = { Date() }) {
        self.now = now
        events.subscribe { [weak self] event in
            guard case .recorded(let job) = event, job.state.isFinal else { return }
            self?.count(job.message.projectName)
        }
    }

    private func count(_ project: String) {
        let minute = Self.minute(now())
        state.withLock { state in
            var minutes = state.byProject[project, default: [:]]
            minutes[minute, default: 0] += 1
            minutes = minutes.filter { $0.key > minute - Self.minutes }
            state.byProject[project] = minutes
        }
    }

    /// The project's finished jobs in each of the last 60 minutes, oldest first.
    func lastHour(of project: String) -> [Int] {
        let current = Self.minute(now())
        let minutes = state.withLock { $0.byProject[project] ?? [:] }
        return (current - Self.minutes + 1...current).map { minutes[$0] ?? 0 }
    }

    private static func minute(_ date: Date) -> Int { Int(date.timeIntervalSince1970 / 60) }
}
