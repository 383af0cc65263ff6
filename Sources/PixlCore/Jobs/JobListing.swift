public import Foundation

/// Which jobs a listing holds: every condition given must hold.
public struct JobFilter: Sendable, Hashable {
    public var state: JobState?
    public var project: String?
    /// Created at or after this time.
    public var createdSince: Date?
    /// Created before this time.
    public var createdUntil: Date?

    public init(state: JobState? = nil, project: String? = nil, createdSince: Date? = nil, createdUntil: Date? = nil) {
        self.state = state
        self.project = project
        self.createdSince = createdSince
        self.createdUntil = createdUntil
    }
}

/// A job's place in the listing order (newest first: creation time, then insertion order), as a page boundary.
///
/// A keyset cursor: the next page is found by an index seek from here, never by skipping rows, so the millionth
/// page costs what the first does. Its text form is the job's insertion number.
public struct JobCursor: Sendable, Hashable, LosslessStringConvertible {
    /// The job's insertion number (`seq`).
    public var position: Int64

    public init(position: Int64) {
        self.position = position
    }

    /// A positive decimal integer of at most 18 digits; anything else is `nil`.
    public init?(_ description: String) {
        guard (1...18).contains(description.utf8.count), description.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
            let position = Int64(description), position > 0
        else { return nil }
        self.position = position
    }

    public var description: String { String(position) }
}

/// Where a page of the listing starts.
public enum PageStart: Sendable, Hashable {
    /// The newest jobs.
    case newest
    /// The oldest jobs: the first page of a listing read oldest first (a report), continued by ``newerThan(_:)``.
    case oldest
    /// The jobs just older than the cursor (the next page).
    case olderThan(JobCursor)
    /// The jobs just newer than the cursor (the previous page).
    case newerThan(JobCursor)
}

/// A page of jobs, newest first, with the cursors to the pages beside it.
public struct JobPage: Sendable, Hashable {
    public var jobs: [Job]
    /// Where the next (older) page starts, when there may be older jobs.
    public var older: JobCursor?
    /// Where the previous (newer) page starts, when there may be newer jobs.
    public var newer: JobCursor?

    public init(jobs: [Job], older: JobCursor?, newer: JobCursor?) {
        self.jobs = jobs
        self.older = older
        self.newer = newer
    }

    /// Builds a page from at most `limit + 1` rows fetched from `start` in the direction of travel (oldest first for
    /// ``PageStart/newerThan(_:)``), each with its cursor: the extra row only says that the listing goes on that way.
    public init(fetched rows: [(job: Job, cursor: JobCursor)], limit: Int, start: PageStart) {
        var rows = rows
        let more = rows.count > limit
        if more { rows.removeLast(rows.count - limit) }
        let goingNewer: Bool
        switch start {
        case .newest, .olderThan: goingNewer = false
        case .oldest, .newerThan: goingNewer = true
        }
        if goingNewer { rows.reverse() }
        self.jobs = rows.map(\.job)
        let continuesOlder = goingNewer ? (start != .oldest && !rows.isEmpty) : more
        let continuesNewer = goingNewer ? more : (start != .newest && !rows.isEmpty)
        self.older = continuesOlder ? rows.last?.cursor : nil
        self.newer = continuesNewer ? rows.first?.cursor : nil
    }
}

/// How many jobs each project has in each state, in each lane, as the store keeps count with its writes.
public struct JobCounts: Sendable, Hashable {
    /// Per project, per state (every lane); a state without jobs may be absent.
    public private(set) var byProject: [String: [JobState: Int]] = [:]
    /// Per lane, per state (every project); a state without jobs may be absent.
    public private(set) var byLane: [Lane: [JobState: Int]] = [:]
    /// Projects with unfinished jobs, per lane: those a lane's fair share turns between.
    public private(set) var unfinishedProjects: [Lane: Set<String>] = [:]

    public init() {}

    /// Adds `jobs` of `project` in `state` and `lane` (one row of the store's counts).
    public mutating func add(_ jobs: Int, project: String, lane: Lane, state: JobState) {
        byProject[project, default: [:]][state, default: 0] += jobs
        byLane[lane, default: [:]][state, default: 0] += jobs
        if !state.isFinal, jobs > 0 { unfinishedProjects[lane, default: []].insert(project) }
    }

    /// Every project's jobs, per state, each state present.
    public var byState: [JobState: Int] {
        var totals = Dictionary(uniqueKeysWithValues: JobState.allCases.map { ($0, 0) })
        for counts in byProject.values {
            for (state, count) in counts { totals[state, default: 0] += count }
        }
        return totals
    }
}
