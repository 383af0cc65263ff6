import Foundation
import PixlCore
import PixlImaging
import PixlTesting
import Testing

/// SPEC §3 Completeness against the in-memory Orthanc: raw's copy is compared with the archive's
/// inventory, what is missing is moved at series or instance level (never the whole study again), and a
/// job succeeds only when every instance is there. Each test asserts what raw holds and what left it.
struct CompletenessTests {
    typealias F = PipelineFixtures
    let logger = F.logger

    /// A copy of ``PipelineFixtures/large`` in raw, tagged, with some series cut down (`keep` per series).
    static func orthanc(rawKeeping keep: [String: Int] = [:], behaviour: FakeOrthanc.Behaviour = .init()) async -> FakeOrthanc {
        let orthanc = FakeOrthanc()
        await orthanc.setArchive(F.primary, [F.large], behaviour: behaviour)
        var copy = F.large
        copy.project = "proj"
        await orthanc.setRaw("raw-1.2.3", copy)
        await orthanc.removeFromRaw("raw-1.2.3", keeping: keep)
        return orthanc
    }

    @Test func completeLocalStudyCostsOneSeriesLevelFind() async throws {
        let orthanc = await Self.orthanc()
        let outcome = await F.pipeline(orthanc, try F.configuration()).process(F.message, logger: logger)
        #expect(outcome == .succeeded(archive: .local, studies: [F.completeRecord(F.large, id: "raw-1.2.3", archive: .primary)]))
        #expect(await orthanc.finds.map(\.level) == [.series])
        #expect(await orthanc.finds.first?.keys == ["StudyInstanceUID": "1.2.3", "SeriesInstanceUID": "", "Modality": "", "NumberOfSeriesRelatedInstances": ""])
        #expect(await orthanc.moves.isEmpty)
        // Counts agreed: no instance was listed, on either side.
        #expect(await orthanc.calls(matching: "GET /series/").isEmpty)
    }

    /// The scenario: a study pulled, most of its instances deleted from raw, the message sent
    /// again. It used to succeed as "local" at 1 of 6 instances.
    @Test func partialLocalSeriesIsToppedUpAtInstanceLevel() async throws {
        let orthanc = await Self.orthanc(rawKeeping: ["1.2.3.2": 1])
        let outcome = await F.pipeline(orthanc, try F.configuration()).process(F.message, logger: logger)
        #expect(outcome == .succeeded(archive: .primary, studies: [F.completeRecord(F.large, id: "raw-1.2.3", archive: .primary)]))
        #expect(await orthanc.rawInstanceCount(studyUID: "1.2.3") == 12)
        // Only series 2 was listed (IMAGE level, SeriesInstanceUID set), and only its 3 missing instances moved.
        let imageFinds = await orthanc.finds.filter { $0.level == .instance }
        #expect(imageFinds.allSatisfy { $0.keys["SeriesInstanceUID"] == "1.2.3.2" })
        #expect(await orthanc.moves.map(\.level) == [.instance])
        #expect(await orthanc.moves.flatMap(\.uids).sorted() == ["1.2.3.2.2", "1.2.3.2.3", "1.2.3.2.4"])
        #expect(await orthanc.moves.map(\.arrivedInstances) == [3])
        // New, untagged instances: their series alone is tagged again, not the whole study.
        #expect(await orthanc.raw["raw-1.2.3"]?.project == "proj")
        #expect(await orthanc.calls(matching: "POST /series/").map { $0 } == ["POST /series/raw-1.2.3|1.2.3.2/modify"])
        #expect(await orthanc.calls(matching: "POST /studies/").isEmpty)
    }

    @Test func oneMissingInstanceIsMovedByItsOwnAnswer() async throws {
        let orthanc = await Self.orthanc(rawKeeping: ["1.2.3.3": 3])
        #expect(await F.pipeline(orthanc, try F.configuration()).process(F.message, logger: logger).state == .succeeded)
        #expect(await orthanc.moves.map(\.uids) == [["1.2.3.3.4"]])
        #expect(await orthanc.calls(matching: "POST /queries/").allSatisfy { $0.contains("/answers/") })
    }

    @Test func wholeMissingSeriesIsMovedAtSeriesLevel() async throws {
        let orthanc = await Self.orthanc(rawKeeping: ["1.2.3.1": 0, "1.2.3.3": 0])
        let outcome = await F.pipeline(orthanc, try F.configuration()).process(F.message, logger: logger)
        #expect(outcome.state == .succeeded)
        #expect(await orthanc.moves.map(\.level) == [.series, .series])
        #expect(await orthanc.moves.flatMap(\.uids).sorted() == ["1.2.3.1", "1.2.3.3"])
        #expect(await orthanc.finds.map(\.level) == [.series])
        #expect(await orthanc.rawInstanceCount(studyUID: "1.2.3") == 12)
    }

    /// dcmqrscp gives no NumberOfSeriesRelatedInstances (measured): each series is listed at IMAGE level,
    /// always with its SeriesInstanceUID, and the counts compared.
    @Test func archiveWithoutCountsIsListedSeriesBySeries() async throws {
        let orthanc = await Self.orthanc(rawKeeping: ["1.2.3.1": 2], behaviour: .init(reportsCounts: false))
        let outcome = await F.pipeline(orthanc, try F.configuration()).process(F.message, logger: logger)
        #expect(outcome.state == .succeeded)
        let imageFinds = await orthanc.finds.filter { $0.level == .instance }
        #expect(imageFinds.prefix(3).map { $0.keys["SeriesInstanceUID"] } == ["1.2.3.1", "1.2.3.2", "1.2.3.3"])
        #expect(imageFinds.prefix(3).allSatisfy { $0.keys["StudyInstanceUID"] == "1.2.3" && $0.keys["SOPInstanceUID"] == "" })
        // Then one C-FIND matching exactly the two missing instances (UID list), moved in one job.
        #expect(imageFinds.dropFirst(3).map { $0.keys["SOPInstanceUID"] } == ["1.2.3.1.3\\1.2.3.1.4"])
        #expect(imageFinds.allSatisfy { $0.keys["SeriesInstanceUID"]?.isEmpty == false })
        #expect(await orthanc.moves.map(\.uids) == [["1.2.3.1.3", "1.2.3.1.4"]])
        #expect(await orthanc.rawInstanceCount(studyUID: "1.2.3") == 12)
    }

    @Test func stillIncompleteAfterTheMoveIsRetriedWithTheCounts() async throws {
        let orthanc = await Self.orthanc(rawKeeping: ["1.2.3.1": 1])
        await orthanc.setUndeliverable(["1.2.3.1.4"])
        let outcome = await F.pipeline(orthanc, try F.configuration()).process(F.message, logger: logger)
        #expect(outcome.state == .retry)
        #expect(outcome.reason == "11 of 12 instances in orthanc-raw")
        let record = try #require(outcome.studies.first)
        #expect(record.orthancID == "raw-1.2.3" && record.expectedInstances == 12 && record.presentInstances == 11)
        #expect(record.series.first { $0.seriesInstanceUID == "1.2.3.1" }?.presentInstances == 3)
        // Not tagged while incomplete: the new instances lack the tag.
        #expect(await orthanc.raw["raw-1.2.3"]?.project == nil)
        // The next attempt moves only the one instance still missing.
        await orthanc.setUndeliverable([])
        #expect(await F.pipeline(orthanc, try F.configuration()).process(F.message, logger: logger).state == .succeeded)
        #expect(await orthanc.moves.last?.uids == ["1.2.3.1.4"])
    }

    /// A study pulled whole is inventoried while Orthanc moves it: the C-MOVE job starts, then the SERIES-level
    /// C-FIND runs, then the job is followed and the copy compared.
    @Test func aStudyPulledWholeIsInventoriedWhileItMoves() async throws {
        let orthanc = FakeOrthanc()
        await orthanc.setArchive(F.primary, [F.large])
        let outcome = await F.pipeline(orthanc, try F.configuration()).process(F.message, logger: logger)
        #expect(outcome == .succeeded(archive: .primary, studies: [F.completeRecord(F.large, id: "raw-1.2.3", archive: .primary)]))
        let steps = await orthanc.calls.compactMap { call -> String? in
            if call.hasPrefix("POST /modalities/") { return "C-FIND" }
            if call.hasPrefix("POST /queries/") { return "C-MOVE" }
            if call.hasPrefix("GET /jobs/") { return "follow" }
            return nil
        }
        #expect(steps.prefix(4) == ["C-FIND", "C-MOVE", "C-FIND", "follow"])
        #expect(await orthanc.finds.map(\.level) == [.study, .series])
    }

    /// An archive that answers a study but lists none of its series (study-level query/retrieve only) vouches
    /// for no copy: what the move started with the inventory brought is deleted, and the job is retried, as
    /// when nothing was moved. Kept, the next attempt would take it for a study that no archive lists.
    @Test func whatAMoveBroughtOfAStudyTheArchiveListsNoSeriesOfIsNotKept() async throws {
        let orthanc = FakeOrthanc()
        await orthanc.setArchive(F.primary, [F.large], behaviour: .init(listsSeries: false))
        let outcome = await F.pipeline(orthanc, try F.configuration(secondaryAE: nil)).process(F.message, logger: logger)
        #expect(outcome.state == .retry)
        #expect(outcome.reason?.contains("lists no series") == true)
        #expect(await orthanc.moves.map(\.level) == [.study])
        #expect(await orthanc.calls(matching: "DELETE /studies/") == ["DELETE /studies/raw-1.2.3"])
        #expect(await orthanc.raw.isEmpty)
    }

    @Test func localStudyNoArchiveListsIsKeptSayingSo() async throws {
        let orthanc = FakeOrthanc()
        await orthanc.setRaw("existing", F.large)
        let outcome = await F.pipeline(orthanc, try F.configuration()).process(F.message, logger: logger)
        #expect(outcome.state == .succeeded && outcome.archive == .local)
        #expect(outcome.reason?.contains("no reachable archive lists it any more") == true)
        #expect(outcome.studies.first?.archive == .local && outcome.studies.first?.expectedInstances == nil)
        #expect(outcome.studies.first?.presentInstances == 12)
        // Looked for in both archives, at series level only; nothing moved; tagged.
        #expect(await orthanc.finds.map { "\($0.modality) \($0.level.rawValue)" } == ["\(F.primary) Series", "\(F.secondary) Series"])
        #expect(await orthanc.moves.isEmpty)
        #expect(await orthanc.raw["existing"]?.project == "proj")
    }

    @Test func localStudyOnlyTheClosedSecondaryCouldListIsDeferred() async throws {
        let orthanc = FakeOrthanc()
        await orthanc.setArchive(F.secondary, [F.large])
        await orthanc.setRaw("existing", F.large)
        let noon = Date(timeIntervalSince1970: 1_764_072_000)  // a Wednesday, 12:00 in London
        let configuration = try F.configuration(window: .range(start: 20 * 60, end: 8 * 60))
        let outcome = await ArchivePipeline(orthanc: orthanc, configuration: configuration, now: { noon }).process(F.message, logger: logger)
        #expect(outcome == .deferred(until: noon.addingTimeInterval(8 * 3600), reason: "not found in primary archive; secondary archive is queried only in its window"))
        #expect(await orthanc.finds.map(\.modality) == [F.primary])
    }

    /// A local copy found in the secondary archive only: its availability is asked before any top-up.
    @Test(arguments: ["ONLINE", "NEARLINE"])
    func topUpFromTheSecondaryNeedsItOnline(availability: String) async throws {
        let orthanc = FakeOrthanc()
        var study = F.large
        study.availability = availability
        await orthanc.setArchive(F.secondary, [study])
        await orthanc.setRaw("existing", F.large)
        await orthanc.removeFromRaw("existing", keeping: ["1.2.3.2": 0])
        let outcome = await F.pipeline(orthanc, try F.configuration()).process(F.message, logger: logger)
        if availability == "ONLINE" {
            #expect(outcome.state == .succeeded && outcome.archive == .secondary)
            #expect(await orthanc.moves.map(\.level) == [.series])
        } else {
            #expect(outcome == .discarded(reason: "study is NEARLINE in secondary archive, not ONLINE", archive: .secondary))
            #expect(await orthanc.moves.isEmpty)
        }
    }
}
