import Foundation
import PixlCore

/// The `imaging_job` row as plain values, shared by both backends' row mapping.
struct JobRow {
    var id: String
    var mrn: String
    var accessionNumber: String
    var studyUID: String
    var seriesUID: String
    var studyDate: String
    var procedureOccurrenceID: Int64
    var projectName: String
    var extractGeneratedTimestamp: String
    var priority: Int
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
        guard ImagingMessage.priorities.contains(Int64(priority)) else { throw bad("priority") }
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
            extractGeneratedTimestamp: timestamp,
            priority: priority
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

    /// The studies column as stored: a JSON array of Orthanc ids.
    static func studiesJSON(_ studies: [String]) -> String {
        // [String] always encodes.
        String(decoding: (try? JSONEncoder().encode(studies)) ?? Data("[]".utf8), as: UTF8.self)
    }
}
