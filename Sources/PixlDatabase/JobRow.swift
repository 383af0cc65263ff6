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
    var traceparent: String?
    var tracestate: String?
    var state: String
    var reason: String?
    var attempts: Int
    var archive: String?
    var lane: String
    /// The Orthanc ids of rows written before `pixl_imaging_0002`, which had no study records.
    var studies: String
    var studyRecords: String
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
        guard let jobLane = Lane(rawValue: lane) else { throw bad("lane") }
        guard let records = JobSQL.studyRecords(studyRecords) else { throw bad("study_records") }
        guard let legacyIDs = JobSQL.studyIDs(studies) else { throw bad("studies") }
        let message = ImagingMessage(
            mrn: mrn,
            accessionNumber: accessionNumber,
            studyUID: studyUID,
            seriesUID: seriesUID,
            studyDate: date,
            procedureOccurrenceID: procedureOccurrenceID,
            projectName: projectName,
            extractGeneratedTimestamp: timestamp,
            priority: priority,
            traceContext: TraceContext(traceparent: traceparent, tracestate: tracestate)
        )
        return Job(
            id: uuid,
            message: message,
            state: jobState,
            reason: reason,
            attempts: attempts,
            archive: jobArchive,
            lane: jobLane,
            studies: records.isEmpty
                ? legacyIDs.map { StudyRecord(orthancID: $0, studyInstanceUID: "", archive: jobArchive ?? .local) } : records,
            createdAt: createdAt,
            updatedAt: updatedAt,
            startedAt: startedAt,
            nextAttemptAt: nextAttemptAt
        )
    }
}
