public import Foundation
import Logging
public import PixlCore

/// Which studies a message means (SPEC §3 steps 3 to 5), with the second guard of SPEC §2: an answer,
/// local or from an archive, counts only if its keys equal what was asked.
extension ArchivePipeline {
    /// Step 3: the studies in orthanc-raw matching the message.
    func localStudies(for message: ImagingMessage) async throws -> [OrthancStudy] {
        let keys = Self.localKeys(message)
        return try await orthanc.findStudies(matching: keys).filter { study in
            keys.allSatisfy { key, value in DicomValue.equals(Self.value(of: key, in: study), value) }
        }
    }

    /// Steps 4 and 5: the primary archive, then (when it has nothing) the secondary one, as far as `reach` allows: a run
    /// of the primary lane hands the job to the secondary lane instead, and a run of the secondary lane asks only the
    /// secondary archive (the primary has said no).
    func search(for message: ImagingMessage, reach: ArchiveReach, logger: Logger) async throws -> ArchiveSearch {
        if reach != .lane(.secondary) {
            let primary = configuration.primarySource
            if let found = try await timed("query_primary", { try await query(primary, for: message, logger: logger) }) {
                return .found(found)
            }
        }
        guard let secondary = configuration.secondarySource else {
            logger.info("not found in primary archive and no secondary archive", metadata: [LogKey.step: "query-primary"])
            return .none(.discarded(reason: "not found in primary archive and no secondary archive"))
        }
        switch reach {
        case .lane(.primary):
            logger.info("not found in primary archive: over to the secondary lane", metadata: [LogKey.step: "query-primary"])
            return .none(.notInPrimary(reason: Self.waitingForSecondary))
        case .both:
            if let closed = secondaryClosed(at: now()) {
                logger.info("not found in primary archive; the secondary archive is closed", metadata: [LogKey.step: "query-secondary"])
                return .none(closed)
            }
        case .lane(.secondary):
            break
        }
        guard let found = try await timed("query_secondary", { try await query(secondary, for: message, logger: logger) }) else {
            logger.info("not found in primary or secondary archive", metadata: [LogKey.step: "query-secondary"])
            return .none(.discarded(reason: "not found in primary or secondary archive", archive: nil))
        }
        if let refusal = availabilityRefusal(found.answers) {
            logger.info("secondary study not retrievable: \(refusal)", metadata: [LogKey.archive: "secondary"])
            return .none(.discarded(reason: refusal, archive: .secondary))
        }
        return .found(found)
    }

    /// Why a job the primary lane hands over waits in the secondary lane.
    static var waitingForSecondary: String { "not found in primary archive; waiting for the secondary archive's lane" }

    /// The studies to finish: those found in the archive (with their copy in raw, if any) and the local ones.
    func targets(for found: FoundStudies, local: [OrthancStudy]) async throws -> [StudyTarget] {
        var targets: [StudyTarget] = []
        for answer in found.answers {
            guard let uid = answer.studyInstanceUID.map({ String(DicomValue.trimmingPadding($0)) }) else { continue }
            var rawID = local.first(where: { $0.studyInstanceUID == uid })?.id
            if rawID == nil { rawID = try await rawStudyID(uid) }
            targets.append(
                StudyTarget(
                    uid: uid, rawID: rawID, location: .archive(found.source),
                    answer: FoundAnswer(queryID: found.queryID, index: answer.index), availabilityChecked: true
                )
            )
        }
        for study in local where !targets.contains(where: { $0.uid == study.studyInstanceUID }) {
            targets.append(StudyTarget(local: study))
        }
        return targets
    }

    /// orthanc-raw's id for the study with this UID, if it holds one.
    func rawStudyID(_ uid: String) async throws -> String? {
        try await orthanc.findStudies(matching: ["StudyInstanceUID": uid]).first { DicomValue.equals($0.studyInstanceUID, uid) }?.id
    }

    /// `nil` when the secondary archive may be queried at `date` (its window is open and the day is not closed); else the
    /// deferral until its lane opens, or a discard when it never does (`never`).
    public func secondaryClosed(at date: Date) -> PipelineOutcome? {
        switch configuration.secondaryTimetable.entry(at: date) {
        case .open:
            return nil
        case .closedUntil(let opening):
            return .deferred(until: opening, reason: "not found in primary archive; secondary archive is queried only in its window")
        case .neverOpen:
            return .discarded(reason: "not found in primary archive and secondary queries are disabled")
        }
    }

    /// The reason not to pull a secondary study, or `nil` when every answer is ONLINE (or unreported and allowed).
    func availabilityRefusal(_ answers: [QueryAnswer]) -> String? {
        if answers.isEmpty, configuration.requireOnline { return "availability not reported by secondary archive" }
        for answer in answers {
            let availability = answer.instanceAvailability.map { DicomValue.trimmingPadding($0).uppercased() } ?? ""
            switch availability {
            case "ONLINE": continue
            case "": if configuration.requireOnline { return "availability not reported by secondary archive" }
            default: return "study is \(availability) in secondary archive, not ONLINE"
            }
        }
        return nil
    }

    /// Before anything of a study the secondary archive holds is moved, that archive must say it may be
    /// pulled; studies found by steps 4 and 5 were checked there, the others are asked now (one C-FIND).
    func availabilityRefusal(for target: inout StudyTarget, from source: ArchiveSource) async throws -> String? {
        guard source.archive == .secondary, !target.availabilityChecked else { return nil }
        let result = try await find(.study, in: source, keys: ["StudyInstanceUID": target.uid, "InstanceAvailability": ""])
        target.availabilityChecked = true
        return availabilityRefusal(result.answers.filter { DicomValue.equals($0.studyInstanceUID, target.uid) })
    }

    // MARK: Queries

    /// Steps 4 and 5's query: by UID, then by MRN + accession number. `nil` when no answer matches exactly.
    private func query(_ source: ArchiveSource, for message: ImagingMessage, logger: Logger) async throws -> FoundStudies? {
        if !message.studyUID.isEmpty {
            let keys = ["StudyInstanceUID": message.studyUID, "InstanceAvailability": ""]
            let result = try await find(.study, in: source, keys: keys)
            let matching = exactAnswers(result, asked: ["StudyInstanceUID": message.studyUID], logger: logger)
            if !matching.isEmpty { return FoundStudies(source: source, queryID: result.id, answers: matching) }
        }
        guard message.hasPatientIdentifiers else { return nil }
        let keys = [
            "PatientID": message.mrn, "AccessionNumber": message.accessionNumber, "StudyInstanceUID": "", "InstanceAvailability": "",
        ]
        let result = try await find(.study, in: source, keys: keys)
        let matching = exactAnswers(result, asked: ["PatientID": message.mrn, "AccessionNumber": message.accessionNumber], logger: logger)
        if !matching.isEmpty {
            logger.debug("found by MRN and accession number", metadata: [LogKey.step: "query"])
        }
        return matching.isEmpty ? nil : FoundStudies(source: source, queryID: result.id, answers: matching)
    }

    /// The answers whose asked keys equal what was asked (padding aside) and whose StudyInstanceUID is a
    /// valid UID, one per study. Any other answer is never retrieved (SPEC §2): an archive that ignores
    /// or drops a key answers with studies that were not asked for.
    private func exactAnswers(_ result: QueryResult, asked: [String: String], logger: Logger) -> [QueryAnswer] {
        var seen = Set<String>()
        let matching = result.answers.filter { answer in
            guard let uid = answer.studyInstanceUID.map(DicomValue.trimmingPadding), DicomValue.isUID(uid) else { return false }
            guard asked.allSatisfy({ key, value in DicomValue.equals(Self.value(of: key, in: answer), value) }) else { return false }
            return seen.insert(String(uid)).inserted
        }
        let ignored = result.answers.count - matching.count
        if ignored > 0 {
            logger.warning(
                "archive answered \(ignored) of \(result.answers.count) answers that do not match the query exactly: not retrieved",
                metadata: [LogKey.step: "query"]
            )
        }
        return matching
    }

    private static func value(of key: String, in answer: QueryAnswer) -> String? {
        switch key {
        case "StudyInstanceUID": answer.studyInstanceUID
        case "PatientID": answer.patientID
        case "AccessionNumber": answer.accessionNumber
        default: nil
        }
    }

    private static func value(of key: String, in study: OrthancStudy) -> String? {
        switch key {
        case "StudyInstanceUID": study.studyInstanceUID
        case "PatientID": study.patientID
        case "AccessionNumber": study.accessionNumber
        default: nil
        }
    }

    /// Step 3's keys: never an empty value, which `/tools/find` would treat as "any".
    static func localKeys(_ message: ImagingMessage) -> [String: String] {
        var keys: [String: String] = [:]
        if message.hasPatientIdentifiers {
            keys["PatientID"] = message.mrn
            keys["AccessionNumber"] = message.accessionNumber
        }
        if !message.studyUID.isEmpty { keys["StudyInstanceUID"] = message.studyUID }
        return keys
    }
}
