import Foundation
import PixlCore

/// What the console's templates show, as the plain values Mustache renders: from the store's counts, the lanes, the
/// newest failures and this process's throughput. Patient identifiers are masked unless the console is told to show them.
enum ConsoleView {
    /// The segments of a project's progress bar, in the order they are drawn.
    static let segments: [(kind: String, states: [JobState])] = [
        ("succeeded", [.succeeded]), ("discarded", [.discarded]), ("failed", [.failed]), ("deferred", [.deferred]),
        ("waiting", [.queued, .retry, .inProgress]),
    ]

    static func panel(
        counts: JobCounts,
        lanes: [(lane: ArchiveLane<some Clock<Duration>>, snapshot: LaneSnapshot)],
        failures: [Job],
        scanned: Int,
        throughput: ConsoleThroughput,
        csrf: String
    ) -> [String: Any] {
        let projects = counts.byProject.sorted { $0.key < $1.key }.map { name, states in
            project(name, states: states, lastHour: throughput.lastHour(of: name))
        }
        return [
            "csrf": csrf,
            "projects": projects,
            "lanes": lanes.map { lane(counts: counts.byLane[$0.snapshot.lane] ?? [:], lane: $0.lane, snapshot: $0.snapshot) },
            "failures": failureGroups(failures),
            "scanned": scanned,
            "updated": ISO8601UTC.format(Date()),
        ]
    }

    static func project(_ name: String, states: [JobState: Int], lastHour: [Int]) -> [String: Any] {
        let total = states.values.reduce(0, +)
        let segments: [[String: Any]] = segments.map { kind, members in
            let count = members.reduce(0) { $0 + (states[$1] ?? 0) }
            return ["kind": kind, "count": count, "percent": total == 0 ? 0 : Double(count * 10_000 / total) / 100]
        }
        let waiting = (states[.queued] ?? 0) + (states[.retry] ?? 0) + (states[.deferred] ?? 0) + (states[.inProgress] ?? 0)
        return [
            "name": name,
            "path": name.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? name,
            "total": total,
            "segments": segments,
            "hasFailed": (states[.failed] ?? 0) > 0,
            "hasWaiting": waiting > (states[.inProgress] ?? 0),
            "sparkline": sparkline(lastHour),
            "lastHour": lastHour.reduce(0, +),
            "eta": timeToFinish(waiting: waiting, lastTenMinutes: lastHour.suffix(10).reduce(0, +)),
        ]
    }

    static func lane(counts: [JobState: Int], lane: ArchiveLane<some Clock<Duration>>, snapshot: LaneSnapshot) -> [String: Any] {
        var view: [String: Any] = [
            "lane": snapshot.lane.rawValue,
            "modality": lane.modality ?? "none configured",
            "rate": snapshot.rate.formatted(.number.precision(.fractionLength(0...2))),
            "configuredRate": snapshot.configuredRate.formatted(.number.precision(.fractionLength(0...2))),
            "adaptive": snapshot.adaptive,
            "paused": snapshot.paused,
            "action": snapshot.paused ? "resume" : "pause",
            "inFlight": snapshot.inFlight,
            "maxInFlight": snapshot.maxInFlight,
            "queued": (counts[.queued] ?? 0) + (counts[.retry] ?? 0),
            "deferred": counts[.deferred] ?? 0,
            "window": snapshot.isOpen ? "open" : "closed",
            "breaker": snapshot.breaker.replacingOccurrences(of: "_", with: "-"),
        ]
        // Absent, not nil: Mustache would print "nil".
        if let next = snapshot.nextChange { view["nextChange"] = ISO8601UTC.format(next) }
        return view
    }

    /// Failed and discarded jobs by outcome and reason, most frequent first, each with its newest job as an example.
    static func failureGroups(_ jobs: [Job]) -> [[String: Any]] {
        var groups: [String: (state: JobState, reason: String, count: Int, example: UUID)] = [:]
        for job in jobs {
            let reason = job.reason ?? "no reason recorded"
            let key = "\(job.state.rawValue)\u{0}\(reason)"
            if let group = groups[key] { groups[key]?.count = group.count + 1 } else { groups[key] = (job.state, reason, 1, job.id) }
        }
        return groups.values.sorted { ($0.count, $1.reason) > ($1.count, $0.reason) }.map {
            ["state": $0.state.rawValue, "reason": $0.reason, "count": $0.count, "example": $0.example.uuidString.lowercased()]
        }
    }

    static func job(_ job: Job, showIdentifiers: Bool) -> [String: Any] {
        let message = job.message
        let timeline: [(String, Date?)] = [
            ("created", job.createdAt), ("last claimed", job.startedAt), ("last changed", job.updatedAt), ("next attempt", job.nextAttemptAt),
        ]
        return [
            "id": job.id.uuidString.lowercased(),
            "project": message.projectName,
            "state": job.state.rawValue,
            "reason": job.reason ?? "",
            "lane": job.lane.rawValue,
            "archive": job.archive?.rawValue ?? "not yet",
            "attempts": job.attempts,
            "priority": message.priority,
            "mrn": showIdentifiers ? message.mrn : mask(message.mrn),
            "accession": showIdentifiers ? message.accessionNumber : mask(message.accessionNumber),
            "studyUID": message.studyUID,
            "series": message.seriesUID.isEmpty ? "the whole study" : message.requestedSeriesUIDs.joined(separator: ", "),
            "timeline": timeline.compactMap { event, time in time.map { ["event": event, "time": ISO8601UTC.format($0)] } },
            "studies": job.studies.map { study in
                [
                    "uid": study.studyInstanceUID, "orthancID": study.orthancID ?? "not in orthanc-raw", "archive": study.archive.rawValue,
                    "present": study.presentInstances, "expected": study.expectedInstances.map(String.init) ?? "?",
                    "series": study.series.map { series in
                        [
                            "uid": series.seriesInstanceUID, "modality": series.modality ?? "", "present": series.presentInstances,
                            "expected": series.expectedInstances.map(String.init) ?? "?",
                        ] as [String: Any]
                    },
                ] as [String: Any]
            },
        ]
    }

    /// An identifier hidden: as many dots as it has characters (at most 12), or "none".
    static func mask(_ identifier: String) -> String {
        identifier.isEmpty ? "none" : String(repeating: "•", count: min(identifier.count, 12)) + " (hidden)"
    }

    /// The last hour's finished jobs per minute as a small inline SVG line, of numbers only.
    static func sparkline(_ perMinute: [Int]) -> String {
        let highest = max(perMinute.max() ?? 0, 1)
        let points = perMinute.enumerated().map { index, count in
            "\(index * 2),\(20 - count * 18 / highest)"
        }
        return """
            <svg class="sparkline" width="120" height="22" viewBox="0 0 120 22" role="img" aria-label="jobs finished per minute, last hour">\
            <polyline fill="none" stroke="#3b7dd8" stroke-width="1.5" points="\(points.joined(separator: " "))"/></svg>
            """
    }

    /// The waiting jobs at the last ten minutes' pace: "done", "unknown" (nothing finished lately), or hours and minutes.
    static func timeToFinish(waiting: Int, lastTenMinutes: Int) -> String {
        guard waiting > 0 else { return "done" }
        guard lastTenMinutes > 0 else { return "unknown: nothing finished in the last 10 minutes" }
        let minutes = (waiting * 10 + lastTenMinutes - 1) / lastTenMinutes
        return minutes < 60 ? "about \(minutes) min" : "about \(minutes / 60) h \(minutes % 60) min"
    }
}
