import CSV
import Foundation
public import PixlCore

/// The reconciliation report of a project (issue 14): one row per requested study, as the CLI asked for it (MRN,
/// accession number, study UID, series UIDs), with where the job stands — state, lane, archive, Orthanc ids, expected
/// and present instances, attempts, last reason, timestamps. It is the list a researcher checks an extract against, so
/// it holds the patient identifiers; it is for the data manager, and nothing of it is logged.
///
/// Rows are written a page of jobs at a time (oldest first, by keyset), so a million-row report never sits in memory.
public enum ProjectReport {
    public enum Format: String, Sendable, CaseIterable {
        case csv
        case json

        public var contentType: String {
            switch self {
            case .csv: "text/csv; charset=utf-8"
            case .json: "application/json"
            }
        }
    }

    /// The CSV header, and the keys of a JSON row.
    public static let columns = [
        "job_id", "project_name", "mrn", "accession_number", "study_uid", "series_uid", "state", "lane", "archive", "orthanc_study_ids",
        "found_study_uids", "expected_instances", "present_instances", "attempts", "reason", "created_at", "updated_at", "started_at",
        "next_attempt_at",
    ]

    /// Jobs read per page.
    static let pageSize = 1000

    /// Calls `write` with the report's text, a page of jobs at a time: a header (CSV) or `[` (JSON), the rows, the end.
    /// - Parameter page: reads a page of the project's jobs from a start (the store's listing).
    public static func write(
        _ format: Format,
        pages page: (PageStart) async throws -> JobPage,
        to write: (String) async throws -> Void
    ) async throws {
        try await write(format == .csv ? try csv([columns]) : "[")
        var start = PageStart.oldest
        var first = true
        while true {
            let jobs = try await page(start)
            // A page read oldest first is given newest first, as every page of the listing.
            let rows = jobs.jobs.reversed()
            switch format {
            case .csv:
                if !rows.isEmpty { try await write(try csv(rows.map(fields))) }
            case .json:
                var text = ""
                for job in rows {
                    text += (first ? "" : ",") + json(job).serialized()
                    first = false
                }
                if !text.isEmpty { try await write(text) }
            }
            guard let newer = jobs.newer else { break }
            start = .newerThan(newer)
        }
        if format == .json { try await write("]") }
    }

    /// One job's row, in ``columns``' order. Lists are joined by `;`; an unknown count or time is empty.
    static func fields(_ job: Job) -> [String] {
        let message = job.message
        return [
            job.id.uuidString.lowercased(), message.projectName, message.mrn, message.accessionNumber, message.studyUID, message.seriesUID,
            job.state.rawValue, job.lane.rawValue, job.archive?.rawValue ?? "", job.studies.compactMap(\.orthancID).joined(separator: ";"),
            job.studies.map(\.studyInstanceUID).filter { !$0.isEmpty }.joined(separator: ";"), expected(job).map(String.init) ?? "",
            job.studies.isEmpty ? "" : String(present(job)), String(job.attempts), job.reason ?? "", ISO8601UTC.format(job.createdAt),
            ISO8601UTC.format(job.updatedAt), job.startedAt.map(ISO8601UTC.format) ?? "", job.nextAttemptAt.map(ISO8601UTC.format) ?? "",
        ]
    }

    /// One job's JSON row: ``columns``' keys, lists as arrays, counts as numbers, and each study's detail.
    static func json(_ job: Job) -> JSONValue {
        let message = job.message
        func time(_ date: Date?) -> JSONValue { date.map { .string(ISO8601UTC.format($0)) } ?? .null }
        return .object([
            "job_id": .string(job.id.uuidString.lowercased()),
            "project_name": .string(message.projectName),
            "mrn": .string(message.mrn),
            "accession_number": .string(message.accessionNumber),
            "study_uid": .string(message.studyUID),
            "series_uid": .array(message.requestedSeriesUIDs.map(JSONValue.string)),
            "state": .string(job.state.rawValue),
            "lane": .string(job.lane.rawValue),
            "archive": job.archive.map { .string($0.rawValue) } ?? .null,
            "orthanc_study_ids": .array(job.studies.compactMap(\.orthancID).map(JSONValue.string)),
            "found_study_uids": .array(job.studies.map(\.studyInstanceUID).filter { !$0.isEmpty }.map(JSONValue.string)),
            "expected_instances": expected(job).map { .integer(Int64($0)) } ?? .null,
            "present_instances": job.studies.isEmpty ? .null : .integer(Int64(present(job))),
            "attempts": .integer(Int64(job.attempts)),
            "reason": job.reason.map(JSONValue.string) ?? .null,
            "created_at": time(job.createdAt),
            "updated_at": time(job.updatedAt),
            "started_at": time(job.startedAt),
            "next_attempt_at": time(job.nextAttemptAt),
            "studies": .array(job.studies.map(\.json)),
        ])
    }

    /// The instances the archives list for the job's studies; `nil` unless every study's count is known.
    private static func expected(_ job: Job) -> Int? {
        guard !job.studies.isEmpty else { return nil }
        var total = 0
        for study in job.studies {
            guard let expected = study.expectedInstances else { return nil }
            total += expected
        }
        return total
    }

    private static func present(_ job: Job) -> Int {
        job.studies.reduce(0) { $0 + $1.presentInstances }
    }

    /// Rows as RFC 4180 CSV (CSV.swift), each ended by a line break.
    private static func csv(_ rows: [[String]]) throws -> String {
        let writer = try CSVWriter(stream: .toMemory(), newline: .crlf)
        for row in rows { try writer.write(row: row) }
        writer.stream.close()
        guard let data = writer.stream.property(forKey: .dataWrittenToMemoryStreamKey) as? Data else { return "" }
        return String(decoding: data, as: UTF8.self) + "\r\n"
    }
}
