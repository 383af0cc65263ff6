import Foundation
import Logging
import PixlCore

/// The C-MOVEs into orthanc-raw (SPEC §3 step 6 and Completeness): a whole study only the first time,
/// then whole series at series level and single instances at instance level.
///
/// Orthanc 1.10.1's `POST /modalities/{m}/move` is synchronous (it answers `{}` when the move is over, with
/// no job to follow), so every move goes through a query held by orthanc-raw:
/// `POST /queries/{id}/retrieve` (every answer, one job) or `.../answers/{n}/retrieve` (one answer). Only
/// answers checked against what was asked are moved; "every answer" only when all of them are wanted.
extension ArchivePipeline {
    /// What following a C-MOVE came to.
    enum MoveResult: Sendable, Hashable {
        case arrived
        /// The archive refused the move (a DIMSE failure status): trying again will not help.
        case refused(String)
        /// Timed out, or failed in a way another attempt may overcome (network, association, resources).
        case unfinished(String)
    }

    /// A study's first C-MOVE, started and not yet followed.
    enum StudyMove: Sendable, Hashable {
        case started(jobID: String)
        /// orthanc-raw no longer holds the query to move from.
        case queryGone
    }

    /// Step 6: starts the first C-MOVE of a study found in this attempt, by its own study-level answer. Orthanc
    /// runs it as a job, so the caller takes the archive's inventory meanwhile, then follows it (``follow(_:logger:)``).
    func startStudyMove(_ answer: FoundAnswer, source: ArchiveSource, logger: Logger) async throws -> StudyMove {
        guard let jobID = try await startMove(answer.queryID, answer: answer.index) else { return .queryGone }
        logger.info(
            "retrieving study into orthanc-raw",
            metadata: [LogKey.step: "retrieve", LogKey.orthancJob: "\(jobID)", LogKey.archive: "\(source.archive.rawValue)"]
        )
        return .started(jobID: jobID)
    }

    /// Follows a study's first C-MOVE to its end.
    func follow(_ move: StudyMove, from source: ArchiveSource, logger: Logger) async throws -> MoveResult {
        switch move {
        case .started(let jobID): try await followMove(jobID, from: source, logger: logger)
        case .queryGone: .unfinished(Self.queryGone)
        }
    }

    /// Moves what raw lacks: series it has none of at series level, missing instances at instance level.
    /// - Returns: what kept a move from finishing, or `nil` when every move did.
    func topUp(_ checks: [SeriesCheck], of study: String, inventory: ArchiveInventory, logger: Logger) async throws -> String? {
        let source = inventory.source
        var jobs: [String?] = []
        let whole = checks.filter(\.isWhollyMissing)
        if !whole.isEmpty {
            if whole.count == inventory.query.answerCount {
                jobs.append(try await startMove(inventory.query.id))
            } else {
                for check in whole {
                    jobs.append(try await startMove(inventory.query.id, answer: check.series.answerIndex))
                }
            }
        }
        var instances = 0
        for check in checks where !check.isWhollyMissing {
            guard let missing = check.missing, !missing.isEmpty, let listing = check.series.listing else { continue }
            instances += missing.count
            jobs += try await moveInstances(missing, of: check.series.uid, study: study, listing: listing, in: source)
        }
        logger.info(
            "topping up orthanc-raw: \(whole.count) series at series level, \(instances) instances at instance level",
            metadata: [LogKey.step: "top-up", LogKey.archive: "\(source.archive.rawValue)"]
        )
        var problem: String? = jobs.contains(nil) ? Self.queryGone : nil
        for jobID in jobs.compactMap({ $0 }) {
            switch try await followMove(jobID, from: source, logger: logger) {
            case .arrived: continue
            case .refused(let description): problem = problem ?? "C-MOVE refused: \(description)"
            case .unfinished(let reason): problem = problem ?? reason
            }
        }
        return problem
    }

    /// Most SOPInstanceUIDs in one list-matching C-FIND (about 6.5 kB of key).
    static var instancesPerQuery: Int { 100 }

    /// Instance-level C-MOVEs of `missing`: every answer of the listing when all are missing, the one
    /// answer when one is, else an IMAGE-level C-FIND matching exactly the missing SOPInstanceUIDs (UID
    /// list matching) per batch, whose checked answers are moved in one job. `nil` for a move whose query
    /// orthanc-raw no longer holds.
    private func moveInstances(
        _ missing: [String],
        of series: String,
        study: String,
        listing: InstanceListing,
        in source: ArchiveSource
    ) async throws -> [String?] {
        if missing.count == listing.query.answerCount {
            return [try await startMove(listing.query.id)]
        }
        if missing.count == 1, let index = listing.indexBySOPInstanceUID[missing[0]] {
            return [try await startMove(listing.query.id, answer: index)]
        }
        var jobs: [String?] = []
        for start in stride(from: 0, to: missing.count, by: Self.instancesPerQuery) {
            let batch = Array(missing[start..<min(start + Self.instancesPerQuery, missing.count)])
            let keys = ["StudyInstanceUID": study, "SeriesInstanceUID": series, "SOPInstanceUID": batch.joined(separator: "\\")]
            let result = try await find(.instance, in: source, keys: keys)
            let checked = Self.instanceAnswers(result, study: study, series: series, among: Set(batch))
            if checked.count == result.answers.count, !checked.isEmpty {
                jobs.append(try await startMove(result.id))
            } else {
                for index in checked.values.sorted() {
                    jobs.append(try await startMove(result.id, answer: index))
                }
            }
        }
        return jobs
    }

    /// Starts the C-MOVE of a query's answers (every one, or the one at `answer`): the job's id, or `nil` when
    /// orthanc-raw no longer holds the query. It forgets its queries when it restarts and keeps only the latest
    /// (`QueryRetrieveSize`, 100 by default), so a query made before a long C-MOVE can be gone by the top-up that
    /// needs it; Orthanc then answers 404, which says nothing about the study: the next attempt queries again.
    /// (Found by scripts/chaos: raw killed during a C-MOVE made such a job fail for good.)
    private func startMove(_ query: String, answer: Int? = nil) async throws -> String? {
        let target = configuration.rawAETitle
        do {
            if let answer { return try await orthanc.retrieve(queryID: query, answer: answer, targetAET: target) }
            return try await orthanc.retrieve(queryID: query, targetAET: target)
        } catch let error as OrthancError where error.status == 404 {
            return nil
        }
    }

    /// Why a move did not start: its query is gone from orthanc-raw.
    static var queryGone: String { "orthanc-raw no longer holds the query to move from (restarted, or newer queries pushed it out)" }

    /// Follows a C-MOVE job from `source`, and tells the archive observer how the archive did: a move that arrived or
    /// ended with a DIMSE status was answered; one cut off by the network, or timed out, is the archive's fault. An
    /// evicted job is judged by what arrived, as every move is counted after.
    func followMove(_ jobID: String, from source: ArchiveSource, logger: Logger) async throws -> MoveResult {
        let started = ContinuousClock.now
        let (result, answered) = try await followMove(jobID, logger: logger)
        let latency = ContinuousClock.now - started
        if answered {
            await observer.archive(source.archive, answered: .move, after: latency)
        } else {
            await observer.archive(source.archive, faulted: .move, after: latency)
        }
        return result
    }

    /// What a C-MOVE job came to, and whether the archive answered (a success, or a failure with a DIMSE status).
    private func followMove(_ jobID: String, logger: Logger) async throws -> (MoveResult, answered: Bool) {
        switch try await jobFollower.follow(jobID) {
        case .succeeded, .evicted:
            return (.arrived, true)
        case .timedOut:
            logger.warning("C-MOVE did not finish within the transfer timeout", metadata: [LogKey.orthancJob: "\(jobID)"])
            return (.unfinished("C-MOVE did not finish within the transfer timeout"), false)
        case .failed(let description, let details):
            logger.warning("C-MOVE failed: \(description)", metadata: [LogKey.orthancJob: "\(jobID)"])
            guard let status = Self.dimseStatus(in: details) else { return (.unfinished("C-MOVE failed: \(description)"), false) }
            if Self.isRefusal(status) {
                return (.refused("\(description) (DIMSE status 0x\(String(status, radix: 16, uppercase: true)))"), true)
            }
            return (.unfinished("C-MOVE failed: \(description)"), true)
        }
    }

    /// The DIMSE status in Orthanc's `ErrorDetails` of a failed C-MOVE, as measured on 1.10.1:
    /// `C-MOVE SCU to AET "VNAQR" has failed with DIMSE status 0xC000 (unable to process - …)`. A network
    /// failure has none (`DicomAssociation - connecting to AET "VNAQR": TCP Initialization Error: …`).
    static func dimseStatus(in details: String?) -> UInt16? {
        guard let details, let marker = details.range(of: "DIMSE status 0x") else { return nil }
        let digits = details[marker.upperBound...].prefix { $0.isHexDigit }.prefix(4)
        return digits.count == 4 ? UInt16(digits, radix: 16) : nil
    }

    /// Refused (A8xx move destination unknown, A9xx identifier does not match the SOP class, Cxxx unable
    /// to process): the archive will answer the same again. Out of resources (A7xx), sub-operations with
    /// failures (B000) and cancel (FE00) leave a partial transfer that a later attempt tops up.
    static func isRefusal(_ status: UInt16) -> Bool {
        (0xA800...0xA9FF).contains(status) || (0xC000...0xCFFF).contains(status)
    }
}
