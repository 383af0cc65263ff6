import Logging
import PixlCore

/// Completeness (SPEC §3): orthanc-raw's copy of a study against its archive's inventory, verified, never
/// assumed. Counts are compared first (one SERIES-level C-FIND, one REST call to raw); SOPInstanceUIDs are
/// listed only for series whose counts differ, or whose archive gives no count (an IMAGE-level C-FIND per
/// series, always with its SeriesInstanceUID). What is missing is moved at series or instance level,
/// never the whole study again, and counted once more.
extension ArchivePipeline {
    /// Brings one study to complete, as far as one attempt can, and says where it stands.
    ///
    /// A study found in this attempt and not in orthanc-raw is pulled whole: its C-MOVE starts before the
    /// inventory is taken, so that the SERIES-level C-FIND runs while Orthanc moves the study (on the lab a
    /// C-FIND takes half as long as a one-instance C-MOVE, about 90 ms), and the copy is compared once it arrived.
    func makeComplete(_ target: inout StudyTarget, requested: [String], reach: ArchiveReach, logger: Logger) async throws -> StudyProgress {
        let inventory: ArchiveInventory
        var wholeMove: StudyMove?
        switch target.location {
        case .archive(let source):
            if target.rawID == nil, requested.isEmpty, let answer = target.answer {
                if let refusal = try await availabilityRefusal(for: &target, from: source) {
                    return .stop(.discarded(reason: refusal, archive: source.archive))
                }
                wholeMove = try await startStudyMove(answer, source: source, logger: logger)
            }
            inventory = try await self.inventory(of: target.uid, in: source)
        case .nowhere:
            return .checked(try await keptUnlisted(target, requested: requested, logger: logger))
        case .unknown:
            switch try await locate(target.uid, reach: reach, logger: logger) {
            case .found(let found):
                target.location = .archive(found.source)
                inventory = found
            case .nowhere:
                target.location = .nowhere
                return .checked(try await keptUnlisted(target, requested: requested, logger: logger))
            case .stop(let outcome):
                return .stop(outcome)
            }
        }
        let source = inventory.source
        var wanted = requested.isEmpty ? inventory.series : inventory.series.filter { requested.contains($0.uid) }
        if wanted.isEmpty {
            guard requested.isEmpty else { return .checked(.skipped(target.uid, source: source)) }
            logger.warning("the \(source.name) lists no series of the study", metadata: [LogKey.step: "completeness"])
            if let wholeMove { try await undo(wholeMove, of: target.uid, from: source, logger: logger) }
            let record = StudyRecord(orthancID: target.rawID, studyInstanceUID: target.uid, archive: source.archive)
            return .checked(StudyCheck(record: record, isComplete: false, problem: "the \(source.name) lists no series of the study"))
        }
        for index in wanted.indices where wanted[index].expected == nil {
            let listing = try await listInstances(of: wanted[index].uid, study: target.uid, in: source)
            wanted[index].listing = listing
            wanted[index].expected = listing.count
        }

        var moved = false
        var pulledWhole = false
        var problem: String?
        if let wholeMove {
            switch try await timed("retrieve", { try await follow(wholeMove, from: source, logger: logger) }) {
            case .refused(let description): return .stop(.discarded(reason: "retrieve failed: \(description)", archive: source.archive))
            case .unfinished(let reason): problem = reason
            case .arrived: break
            }
            moved = true
            pulledWhole = true
            target.rawID = try await rawStudyID(target.uid)
            if target.rawID == nil, problem == nil { problem = "retrieve reported no failure but the study is not in orthanc-raw" }
        }

        var checks = try await compare(wanted, rawID: target.rawID, study: target.uid, in: source)
        if problem == nil, checks.contains(where: { !$0.isComplete }) {
            if let refusal = try await availabilityRefusal(for: &target, from: source) {
                return .stop(.discarded(reason: refusal, archive: source.archive))
            }
            problem = try await timed("top_up", { try await topUp(checks, of: target.uid, inventory: inventory, logger: logger) })
            moved = true
            if target.rawID == nil { target.rawID = try await rawStudyID(target.uid) }
            checks = try await recount(checks, rawID: target.rawID)
        }
        let record = StudyRecord(
            orthancID: target.rawID, studyInstanceUID: target.uid, archive: source.archive,
            expectedInstances: checks.reduce(0) { $0 + $1.expected }, presentInstances: checks.reduce(0) { $0 + $1.present },
            series: checks.map(\.record)
        )
        let isComplete = checks.allSatisfy(\.isComplete) && target.rawID != nil
        logger.info(
            "\(isComplete ? "complete" : "incomplete"): \(record.countDescription) in orthanc-raw",
            metadata: [LogKey.step: "completeness", LogKey.archive: "\(source.archive.rawValue)"]
        )
        return .checked(
            StudyCheck(
                record: record, isComplete: isComplete, moved: moved, pulledWhole: pulledWhole, foundSeries: Set(wanted.map(\.uid)),
                problem: isComplete ? nil : problem
            )
        )
    }

    /// Follows a whole-study C-MOVE started before the archive listed no series of the study, then deletes what it
    /// brought: a copy no inventory vouches for is not kept, as when nothing was moved (left in orthanc-raw, the next
    /// attempt would take it for a study that no archive lists any more, and keep it as it is).
    private func undo(_ move: StudyMove, of study: String, from source: ArchiveSource, logger: Logger) async throws {
        _ = try await follow(move, from: source, logger: logger)
        guard let rawID = try await rawStudyID(study) else { return }
        logger.warning("deleting the study the archive moved but lists no series of", metadata: [LogKey.step: "completeness"])
        try await orthanc.deleteStudy(id: rawID)
    }

    // MARK: The archive's side

    /// The archive's SERIES-level inventory of a study: every answer whose StudyInstanceUID is the one
    /// asked and whose SeriesInstanceUID is a valid UID, once each.
    func inventory(of study: String, in source: ArchiveSource) async throws -> ArchiveInventory {
        let keys = ["StudyInstanceUID": study, "SeriesInstanceUID": "", "Modality": "", "NumberOfSeriesRelatedInstances": ""]
        let result = try await find(.series, in: source, keys: keys)
        var seen = Set<String>()
        var series: [ArchiveSeries] = []
        for answer in result.answers where DicomValue.equals(answer.studyInstanceUID, study) {
            guard let uid = answer.seriesInstanceUID.map({ String(DicomValue.trimmingPadding($0)) }), DicomValue.isUID(uid),
                seen.insert(uid).inserted
            else { continue }
            let modality = answer.modality.map { String(DicomValue.trimmingPadding($0)) }
            series.append(ArchiveSeries(uid: uid, modality: modality, expected: answer.numberOfSeriesRelatedInstances, answerIndex: answer.index))
        }
        return ArchiveInventory(source: source, query: QueryReference(id: result.id, answerCount: result.answers.count), series: series)
    }

    /// An IMAGE-level C-FIND of one series, SeriesInstanceUID set (some archives refuse instance queries
    /// without it). Keeps the answers of that study and series with a valid SOPInstanceUID.
    func listInstances(of series: String, study: String, in source: ArchiveSource) async throws -> InstanceListing {
        let keys = ["StudyInstanceUID": study, "SeriesInstanceUID": series, "SOPInstanceUID": ""]
        let result = try await find(.instance, in: source, keys: keys)
        return InstanceListing(
            query: QueryReference(id: result.id, answerCount: result.answers.count),
            indexBySOPInstanceUID: Self.instanceAnswers(result, study: study, series: series)
        )
    }

    /// The answers of an IMAGE-level query that belong to the study and series asked, by SOPInstanceUID.
    static func instanceAnswers(_ result: QueryResult, study: String, series: String, among wanted: Set<String>? = nil) -> [String: Int] {
        var indexes: [String: Int] = [:]
        for answer in result.answers where DicomValue.equals(answer.studyInstanceUID, study) && DicomValue.equals(answer.seriesInstanceUID, series) {
            guard let sop = answer.sopInstanceUID.map({ String(DicomValue.trimmingPadding($0)) }), DicomValue.isUID(sop),
                wanted?.contains(sop) ?? true, indexes[sop] == nil
            else { continue }
            indexes[sop] = answer.index
        }
        return indexes
    }

    /// Which archive lists a study found only in orthanc-raw, as far as `reach` allows: the primary, else the secondary
    /// (within its timetable: outside it, the job is deferred like any secondary query). A run of the primary lane hands
    /// the job to the secondary lane instead of asking it; a run of the secondary lane asks the secondary first.
    private func locate(_ study: String, reach: ArchiveReach, logger: Logger) async throws -> Location {
        let primary = configuration.primarySource
        guard let secondary = configuration.secondarySource else {
            let found = try await inventory(of: study, in: primary)
            return found.series.isEmpty ? .nowhere : .found(found)
        }
        let order: [ArchiveSource]
        switch reach {
        case .lane(.secondary):
            order = [secondary, primary]
        case .lane(.primary):
            let found = try await inventory(of: study, in: primary)
            return found.series.isEmpty ? .stop(.notInPrimary(reason: Self.waitingForSecondary)) : .found(found)
        case .both:
            let found = try await inventory(of: study, in: primary)
            if !found.series.isEmpty { return .found(found) }
            if let closed = secondaryClosed(at: now()) { return closed.state == .deferred ? .stop(closed) : .nowhere }
            order = [secondary]
        }
        for source in order {
            let found = try await inventory(of: study, in: source)
            if !found.series.isEmpty { return .found(found) }
        }
        return .nowhere
    }

    private enum Location {
        case found(ArchiveInventory)
        case nowhere
        case stop(PipelineOutcome)
    }

    // MARK: orthanc-raw's side

    /// Each wanted series against raw's copy: equal counts are complete; otherwise both sides are listed.
    private func compare(_ wanted: [ArchiveSeries], rawID: String?, study: String, in source: ArchiveSource) async throws -> [SeriesCheck] {
        let local = try await rawSeries(rawID)
        var checks: [SeriesCheck] = []
        for var series in wanted {
            let expected = series.expected ?? 0
            guard let copy = local[series.uid] else {
                checks.append(SeriesCheck(series: series, local: nil, missing: nil, present: 0))
                continue
            }
            if copy.instanceCount == expected {
                checks.append(SeriesCheck(series: series, local: copy, missing: nil, present: expected))
                continue
            }
            let listing: InstanceListing
            if let listed = series.listing {
                listing = listed
            } else {
                listing = try await listInstances(of: series.uid, study: study, in: source)
            }
            series.listing = listing
            series.expected = listing.count
            let present = Set(try await orthanc.localInstanceUIDs(ofSeries: copy.id))
            let missing = listing.indexBySOPInstanceUID.keys.filter { !present.contains($0) }.sorted()
            checks.append(SeriesCheck(series: series, local: copy, missing: missing, present: listing.count - missing.count))
        }
        return checks
    }

    /// Counts again after a top-up: by count, or, for series that were listed, by SOPInstanceUID.
    private func recount(_ checks: [SeriesCheck], rawID: String?) async throws -> [SeriesCheck] {
        let local = try await rawSeries(rawID)
        var recounted: [SeriesCheck] = []
        for var check in checks {
            check.local = local[check.series.uid]
            if let copy = check.local, let listing = check.series.listing, check.missing != nil || copy.instanceCount != check.expected {
                let present = Set(try await orthanc.localInstanceUIDs(ofSeries: copy.id))
                let missing = listing.indexBySOPInstanceUID.keys.filter { !present.contains($0) }.sorted()
                check.missing = missing
                check.present = listing.count - missing.count
            } else {
                check.present = min(check.local?.instanceCount ?? 0, check.expected)
            }
            recounted.append(check)
        }
        return recounted
    }

    /// raw's series of a study by SeriesInstanceUID (empty when raw has no copy).
    private func rawSeries(_ rawID: String?) async throws -> [String: LocalSeries] {
        guard let rawID else { return [:] }
        var series: [String: LocalSeries] = [:]
        for copy in try await orthanc.localSeries(ofStudy: rawID) { series[copy.seriesInstanceUID] = copy }
        return series
    }

    /// A study in orthanc-raw that no reachable archive lists any more: kept as it is and counted.
    private func keptUnlisted(_ target: StudyTarget, requested: [String], logger: Logger) async throws -> StudyCheck {
        let local = try await rawSeries(target.rawID)
        let counted = requested.isEmpty ? Array(local.values) : requested.compactMap { local[$0] }
        if !requested.isEmpty, counted.isEmpty { return .skipped(target.uid, source: nil) }
        logger.notice("no reachable archive lists the study any more: kept as it is", metadata: [LogKey.step: "completeness"])
        let series = counted.sorted { $0.seriesInstanceUID < $1.seriesInstanceUID }.map {
            SeriesRecord(seriesInstanceUID: $0.seriesInstanceUID, expectedInstances: nil, presentInstances: $0.instanceCount)
        }
        let record = StudyRecord(
            orthancID: target.rawID, studyInstanceUID: target.uid, archive: .local, expectedInstances: nil,
            presentInstances: series.reduce(0) { $0 + $1.presentInstances }, series: series
        )
        return StudyCheck(record: record, isComplete: true, foundSeries: Set(counted.map(\.seriesInstanceUID)), keptUnlisted: true)
    }
}
