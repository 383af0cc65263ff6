import Foundation
import PixlCore

/// The `imaging_job` row as plain values, shared by both backends' row mapping.
struct JobRecord {
    var id: String
    var mrn: String
    var accessionNumber: String
    var studyUID: String
    var seriesUID: String
    var studyDate: String
    var procedureOccurrenceID: Int64
    var projectName: String
    var extractGeneratedTimestamp: String
    var state: String
    var reason: String?
    var attempts: Int
    var archive: String?
    var studies: String
    var createdAt: Date
    var updatedAt: Date
    var startedAt: Date?
    var nextAttemptAt: Date?

    /// Converts to a ``Job``, failing (without quoting identifiers) when a column holds an unreadable value.
    func job() throws(DatabaseError) -> Job {
        func bad(_ column: String) -> DatabaseError {
            DatabaseError(.invalidRow, "imaging_job row \(id): column \(column) holds an unreadable value")
        }
        guard let uuid = UUID(uuidString: id) else { throw bad("id") }
        guard let date = CalendarDate(iso: studyDate) else { throw bad("study_date") }
        guard let timestamp = ExtractTimestamp(iso: extractGeneratedTimestamp) else { throw bad("extract_generated_timestamp") }
        guard let jobState = JobState(rawValue: state) else { throw bad("state") }
        var jobArchive: Archive?
        if let archive {
            guard let parsed = Archive(rawValue: archive) else { throw bad("archive") }
            jobArchive = parsed
        }
        // Most rows have no studies yet: skip the JSON decoder for them.
        guard let studyIDs = studies == "[]" ? [] : try? JSONDecoder().decode([String].self, from: Data(studies.utf8)) else {
            throw bad("studies")
        }
        let message = ImagingMessage(
            mrn: mrn,
            accessionNumber: accessionNumber,
            studyUID: studyUID,
            seriesUID: seriesUID,
            studyDate: date,
            procedureOccurrenceID: procedureOccurrenceID,
            projectName: projectName,
            extractGeneratedTimestamp: timestamp
        )
        return Job(
            id: uuid,
            message: message,
            state: jobState,
            reason: reason,
            attempts: attempts,
            archive: jobArchive,
            studies: studyIDs,
            createdAt: createdAt,
            updatedAt: updatedAt,
            startedAt: startedAt,
            nextAttemptAt: nextAttemptAt
        )
    }
}

enum JobSQL {
    /// Unfinished states, as an SQL list (matches the partial indexes of `pixl_imaging_0001`).
    static let unfinishedStates = Revisions.unfinishedStates

    /// The condition that makes a job due at a bound `now` (three placeholders filled by the caller).
    static func studiesJSON(_ studies: [String]) -> String {
        // [String] always encodes.
        String(decoding: (try? JSONEncoder().encode(studies)) ?? Data("[]".utf8), as: UTF8.self)
    }

    /// `now + duration`.
    static func date(_ now: Date, plus duration: Duration) -> Date {
        let (seconds, attoseconds) = duration.components
        return now.addingTimeInterval(Double(seconds) + Double(attoseconds) / 1e18)
    }

    /// When a job in `outcome`'s state is next due (`nil` for final states); a retry at `retryAt`, or at once.
    static func nextAttempt(for outcome: PipelineOutcome, retryAt: Date?, now: Date) -> Date? {
        switch outcome {
        case .deferred(let until, _): until
        case .retry: retryAt ?? now
        case .succeeded, .discarded, .failed: nil
        }
    }

    /// The studies column after `outcome`: replaced on success, kept otherwise.
    static func studies(for outcome: PipelineOutcome) -> String? {
        if case .succeeded = outcome { studiesJSON(outcome.succeededStudyIDs) } else { nil }
    }
}
