import Foundation
import PixlCore

/// SQL that both stores run in the same shape, written once with numbered placeholders (`$1` on PostgreSQL, `?1` on
/// SQLite), and the column encodings they share.
enum JobSQL {
    /// A value bound to a placeholder.
    enum Argument {
        case text(String)
        case date(Date)
        case integer(Int64)
    }

    /// A statement and the values of its placeholders, in order.
    struct Statement {
        var sql: String
        var arguments: [Argument]
    }

    /// Writes the placeholder of the `n`th argument (from 1) in a dialect.
    typealias Placeholder = (_ n: Int) -> String

    /// The most projects a claim tries by name; the due jobs of others are still claimed, after theirs, within a priority.
    static let maximumProjectOrder = 16

    /// The claim of a lane's due job: of the highest priority; within it, of the first project in the fair share's order
    /// that has one, else of any project; the earliest due, then the oldest. Each candidate is one index seek
    /// (`ix_imaging_job_share` for a named project, `ix_imaging_job_due` for any), tried in that order until one is found:
    /// COALESCE evaluates its subqueries only as far as it needs. Marks the job in progress.
    /// Placeholders: 1 now, 2 the lease's end, 3 the claim's token, 4 the lane, 5… the projects, in their order.
    /// - Parameter locking: appended to each candidate's SELECT (`FOR UPDATE SKIP LOCKED` on PostgreSQL).
    static func claim(table: String, columns: String, projects: Int, locking: String, placeholder p: Placeholder) -> String {
        let due = "lane = \(p(4)) AND due_at <= \(p(1)) ORDER BY due_at, seq LIMIT 1 \(locking)"
        let candidates = ImagingMessage.priorities.reversed().flatMap { priority in
            (0..<min(projects, maximumProjectOrder)).map { project in
                "(SELECT id FROM \(table) WHERE priority = \(priority) AND project_name = \(p(5 + project)) AND \(due))"
            } + ["(SELECT id FROM \(table) WHERE priority = \(priority) AND \(due))"]
        }
        return """
            UPDATE \(table)
            SET state = 'in_progress', attempts = attempts + 1, lease_expires_at = \(p(2)), lease_token = \(p(3)), next_attempt_at = NULL,
                updated_at = \(p(1)), started_at = \(p(1))
            WHERE id = COALESCE(\(candidates.joined(separator: ",\n    ")))
            RETURNING \(columns)
            """
    }

    /// When the next job of a lane is due: the earliest `due_at` of each priority (one seek each), then the earliest of
    /// those. Placeholder 1: the lane.
    static func nextDue(table: String, placeholder p: Placeholder) -> String {
        let perPriority = ImagingMessage.priorities.map { priority in
            "SELECT MIN(due_at) AS due FROM \(table) WHERE lane = \(p(1)) AND priority = \(priority) AND due_at IS NOT NULL"
        }
        return "SELECT MIN(due) FROM (\(perPriority.joined(separator: " UNION ALL "))) AS dues"
    }

    /// The counts `imaging_job_count` keeps (its triggers).
    static func counts(table: String) -> String {
        "SELECT project_name, lane, state, jobs FROM \(table) WHERE jobs <> 0"
    }

    /// A page of the listing: the filter's conditions and the keyset bound over (created_at, seq), then `limit + 1`
    /// rows in the direction of travel (the extra one says whether the listing goes on). Each row ends with `seq`.
    /// Every condition is an equality or a range on a listing index's columns, so the page is one seek and a range read.
    static func listing(
        table: String,
        columns: String,
        filter: JobFilter,
        start: PageStart,
        limit: Int,
        placeholder p: Placeholder
    ) -> Statement {
        var conditions: [String] = []
        var arguments: [Argument] = []
        func bind(_ argument: Argument) -> String {
            arguments.append(argument)
            return p(arguments.count)
        }
        if let state = filter.state { conditions.append("state = \(bind(.text(state.rawValue)))") }
        if let project = filter.project { conditions.append("project_name = \(bind(.text(project)))") }
        if let since = filter.createdSince { conditions.append("created_at >= \(bind(.date(since)))") }
        if let until = filter.createdUntil { conditions.append("created_at < \(bind(.date(until)))") }
        let order: String
        switch start {
        case .newest:
            order = "created_at DESC, seq DESC"
        case .oldest:
            order = "created_at, seq"
        case .olderThan(let cursor):
            conditions.append("(created_at, seq) < (SELECT created_at, seq FROM \(table) WHERE seq = \(bind(.integer(cursor.position))))")
            order = "created_at DESC, seq DESC"
        case .newerThan(let cursor):
            conditions.append("(created_at, seq) > (SELECT created_at, seq FROM \(table) WHERE seq = \(bind(.integer(cursor.position))))")
            order = "created_at, seq"
        }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let sql = "SELECT \(columns), seq FROM \(table) \(whereClause) ORDER BY \(order) LIMIT \(bind(.integer(Int64(max(0, limit)) + 1)))"
        return Statement(sql: sql, arguments: arguments)
    }

    /// The operator's retry of a project's failed jobs (``JobStore/retryFailed(project:now:limit:)``): a batch found through
    /// `ix_imaging_job_project_state_listing`, each checked for a newer job of its message through
    /// `ix_imaging_job_identity_any`, then updated by id. Placeholders: 1 the project, 2 now, 3 the batch's size.
    /// - Parameter inBatch: the condition that a row's id is one of the subquery's (``batchCondition(_:)``).
    static func retryFailed(table: String, inBatch: (String) -> String, placeholder p: Placeholder) -> String {
        """
        UPDATE \(table)
        SET state = 'queued', attempts = 0, reason = '\(operatorRetry)', next_attempt_at = NULL, lease_expires_at = NULL,
            lease_token = NULL, updated_at = \(p(2))
        WHERE state = 'failed' AND \(inBatch("""
            SELECT id FROM \(table) AS failed
            WHERE failed.project_name = \(p(1)) AND failed.state = 'failed' AND NOT EXISTS (
                SELECT 1 FROM \(table) AS newer
                WHERE newer.project_name = failed.project_name AND newer.mrn = failed.mrn
                  AND newer.accession_number = failed.accession_number AND newer.study_uid = failed.study_uid
                  AND newer.series_uid = failed.series_uid AND newer.seq > failed.seq)
            LIMIT \(p(3))
            """))
        """
    }

    /// The operator's cancellation of a project's waiting jobs (``JobStore/cancelWaiting(project:now:limit:)``): a batch
    /// found through `ix_imaging_job_project_state_listing`, updated by id. The outer condition is checked again on each
    /// row, so a job a worker claimed meanwhile is left to it. Placeholders: 1 the project, 2 now, 3 the batch's size.
    /// - Parameter locking: appended to the batch's SELECT (`FOR UPDATE SKIP LOCKED` on PostgreSQL).
    static func cancelWaiting(table: String, locking: String, inBatch: (String) -> String, placeholder p: Placeholder) -> String {
        """
        UPDATE \(table)
        SET state = 'discarded', reason = '\(operatorCancel)', next_attempt_at = NULL, updated_at = \(p(2))
        WHERE state IN \(waitingStates) AND \(inBatch("""
            SELECT id FROM \(table) WHERE project_name = \(p(1)) AND state IN \(waitingStates) LIMIT \(p(3)) \(locking)
            """))
        """
    }

    /// How a batch's ids are matched on each dialect, so that the update finds them by primary key: PostgreSQL would
    /// otherwise join the batch to a scan of the table.
    static func batchCondition(_ dialect: SQLDialect) -> (String) -> String {
        switch dialect {
        case .postgres: { "id = ANY(ARRAY(\($0)))" }
        case .sqlite: { "id IN (\($0))" }
        }
    }

    /// The reasons the operator's actions leave.
    static let operatorRetry = "retried by the operator"
    static let operatorCancel = "cancelled by the operator"

    /// The states of a job that waits for its turn, as an SQL list.
    static let waitingStates = "('queued', 'retry', 'deferred')"

    /// Unfinished states, as an SQL list (matches the partial indexes of `pixl_imaging_0001`).
    static let unfinishedStates = Revisions.unfinishedStates

    /// The `study_records` column: JSON with ``StudyRecord``'s stored names (`orthanc_id`, `expected_instances`, …).
    static func studyRecordsJSON(_ records: [StudyRecord]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        // Plain values always encode.
        return String(decoding: (try? encoder.encode(records)) ?? Data("[]".utf8), as: UTF8.self)
    }

    static func studyRecords(_ json: String) -> [StudyRecord]? {
        // Most rows hold none: skip the decoder for them.
        guard json != "[]" else { return [] }
        return try? JSONDecoder().decode([StudyRecord].self, from: Data(json.utf8))
    }

    /// The `studies` column of rows from before `pixl_imaging_0002`: Orthanc ids.
    static func studyIDs(_ json: String) -> [String]? {
        json == "[]" ? [] : try? JSONDecoder().decode([String].self, from: Data(json.utf8))
    }
}
