import PixlCore

/// Where one study stands after an attempt.
struct StudyCheck: Sendable {
    var record: StudyRecord
    /// raw holds every instance the archive lists (or the study is kept: no archive lists it).
    var isComplete: Bool
    /// Something was moved from the archive in this attempt.
    var moved = false
    /// The whole study was moved in this attempt (a study-level C-MOVE): none of it is tagged yet.
    var pulledWhole = false
    /// The requested series the study has (in its archive, or in raw when no archive lists it).
    var foundSeries: Set<String> = []
    /// Why the attempt could not finish the study (a C-MOVE that did not finish), for the retry reason.
    var problem: String?
    /// In raw, but no reachable archive lists it any more.
    var keptUnlisted = false
    /// Has none of the requested series: not part of the outcome.
    var skipped = false

    static func skipped(_ uid: String, source: ArchiveSource?) -> StudyCheck {
        StudyCheck(record: StudyRecord(orthancID: nil, studyInstanceUID: uid, archive: source?.archive ?? .local), isComplete: true, skipped: true)
    }
}

/// What making one study complete came to: checked, or an outcome that ends the whole message (a
/// deferral, a discard).
enum StudyProgress: Sendable {
    case checked(StudyCheck)
    case stop(PipelineOutcome)
}

/// The studies of one message, summed up into its outcome.
struct CompletenessSummary: Sendable {
    let requestedSeries: [String]
    private(set) var checks: [StudyCheck] = []

    init(requestedSeries: [String]) {
        self.requestedSeries = requestedSeries
    }

    mutating func add(_ check: StudyCheck) { checks.append(check) }

    /// The studies that count (those with a requested series, or all).
    var counted: [StudyCheck] { checks.filter { !$0.skipped } }
    var records: [StudyRecord] { counted.map(\.record) }
    /// The archive anything was moved from in this attempt; `nil` when raw had it all already.
    var movedFrom: Archive? { counted.first(where: \.moved)?.record.archive }

    private var foundSeries: Set<String> { checks.reduce(into: Set()) { $0.formUnion($1.foundSeries) } }

    /// Discarded when no requested series exists; retry while any study is incomplete ("N of M
    /// instances"); `nil` when every study is complete.
    var unfinishedOutcome: PipelineOutcome? {
        if !requestedSeries.isEmpty, foundSeries.isEmpty {
            let count = requestedSeries.count
            return .discarded(reason: "none of the \(count) requested series found in orthanc-raw or the archive holding the study")
        }
        let incomplete = counted.filter { !$0.isComplete }
        guard !incomplete.isEmpty else { return nil }
        return .retry(reason: Self.reason(incomplete, of: counted.count), studies: records)
    }

    /// What a success should still say: requested series that do not exist, studies kept unchecked.
    var note: String? {
        var notes: [String] = []
        let missing = requestedSeries.filter { !foundSeries.contains($0) }
        if !missing.isEmpty {
            notes.append("requested series not found in the archive holding the study: \(Self.list(missing))")
        }
        for check in counted where check.keptUnlisted {
            notes.append(
                "study \(check.record.studyInstanceUID) kept as it is in orthanc-raw: no reachable archive lists it any more, so its completeness was not checked"
            )
        }
        return notes.isEmpty ? nil : notes.joined(separator: "; ")
    }

    /// "3 of 6 instances in orthanc-raw", with what stopped the attempt; per study when there are several.
    private static func reason(_ incomplete: [StudyCheck], of total: Int) -> String {
        if total == 1, let check = incomplete.first {
            return [check.problem, "\(check.record.countDescription) in orthanc-raw"].compactMap { $0 }.joined(separator: "; ")
        }
        let studies = incomplete.map { check in
            "\(check.record.studyInstanceUID): " + [check.problem, check.record.countDescription].compactMap { $0 }.joined(separator: ", ")
        }
        return "\(incomplete.count) of \(total) studies incomplete in orthanc-raw: \(list(studies, separator: "; "))"
    }

    /// At most ten items, then how many more.
    private static func list(_ items: [String], separator: String = ", ") -> String {
        let shown = items.prefix(10).joined(separator: separator)
        return items.count > 10 ? "\(shown) and \(items.count - 10) more" : shown
    }
}
