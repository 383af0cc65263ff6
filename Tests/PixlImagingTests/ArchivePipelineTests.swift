import Foundation
import Logging
import PixlCore
import PixlImaging
import PixlTesting
import Testing

/// The pipeline's decisions against an in-memory Orthanc. The same scenarios run against real Orthanc
/// servers in IntegrationTests; these pin the branches that a real lab cannot easily provoke.
struct ArchivePipelineTests {
    typealias F = PipelineFixtures
    let logger = F.logger

    @Test func pullsFromPrimaryAndTags() async throws {
        let orthanc = FakeOrthanc()
        await orthanc.setArchive(F.primary, [F.study])
        let outcome = await F.pipeline(orthanc, try F.configuration()).process(F.message, logger: logger)
        #expect(outcome == .succeeded(archive: .primary, studies: [F.completeRecord(F.study, id: "raw-1.2.3", archive: .primary)]))
        #expect(await orthanc.raw["raw-1.2.3"]?.project == "proj")
        #expect(await orthanc.calls(matching: "POST /studies/raw-1.2.3/modify").count == 1)
        #expect(await orthanc.calls(matching: "GET /series/").isEmpty)
        // One study-level C-MOVE of the one answer, then the SERIES-level inventory: counts agree.
        #expect(await orthanc.moves.map(\.level) == [.study])
        #expect(await orthanc.finds.map(\.level) == [.study, .series])
    }

    @Test func secondTimeIsLocalWithoutAnotherRetrieve() async throws {
        let orthanc = FakeOrthanc()
        await orthanc.setArchive(F.primary, [F.study])
        let pipeline = F.pipeline(orthanc, try F.configuration())
        _ = await pipeline.process(F.message, logger: logger)
        let findsBefore = await orthanc.finds.count
        let second = await pipeline.process(F.message, logger: logger)
        #expect(second == .succeeded(archive: .local, studies: [F.completeRecord(F.study, id: "raw-1.2.3", archive: .primary)]))
        #expect(await orthanc.moves.count == 1)
        // The check of a complete local study costs one SERIES-level C-FIND.
        #expect(await orthanc.finds.dropFirst(findsBefore).map(\.level) == [.series])
    }

    @Test func wrongUIDFallsBackToIdentifiers() async throws {
        let orthanc = FakeOrthanc()
        await orthanc.setArchive(F.primary, [F.study])
        let pipeline = F.pipeline(orthanc, try F.configuration())
        let message = F.message(uid: "9.9.9")
        #expect(await pipeline.process(message, logger: logger).succeededStudyIDs == ["raw-1.2.3"])
        #expect(await orthanc.finds.filter { $0.level == .study }.count == 2)
        // Sent again: the study the identifiers found is in raw and complete, so nothing moves again.
        #expect(await pipeline.process(message, logger: logger).archive == .local)
        #expect(await orthanc.moves.count == 1)
    }

    @Test func closedWindowDefersUntilItOpens() async throws {
        let orthanc = FakeOrthanc()
        await orthanc.setArchive(F.secondary, [F.study])
        let configuration = try F.configuration(window: .range(start: 20 * 60, end: 8 * 60))
        // Wednesday 2026-11-25 12:00 UTC = 12:00 in London.
        let noon = Date(timeIntervalSince1970: 1_764_072_000)
        let pipeline = ArchivePipeline(orthanc: orthanc, configuration: configuration, now: { noon })
        guard case .deferred(let until, _) = await pipeline.process(F.message, logger: logger) else {
            Issue.record("expected deferred")
            return
        }
        #expect(until == noon.addingTimeInterval(8 * 3600))
        #expect(await orthanc.finds.filter { $0.modality == F.secondary }.isEmpty)
    }

    @Test func secondaryEqualToPrimaryIsDiscarded() async throws {
        let orthanc = FakeOrthanc()
        await orthanc.setArchive(F.secondary, [F.study])
        let pipeline = F.pipeline(orthanc, try F.configuration(secondaryAE: "VNAQR"))
        #expect(await pipeline.process(F.message, logger: logger) == .discarded(reason: "not found in primary archive and no secondary archive"))
    }

    @Test(arguments: ["NEARLINE", "OFFLINE", "UNAVAILABLE"])
    func notOnlineIsDiscardedNamingTheAvailability(availability: String) async throws {
        let orthanc = FakeOrthanc()
        var study = F.study
        study.availability = availability
        await orthanc.setArchive(F.secondary, [study])
        let outcome = await F.pipeline(orthanc, try F.configuration()).process(F.message, logger: logger)
        #expect(outcome.state == .discarded)
        #expect(outcome.reason?.contains(availability) == true)
        #expect(await orthanc.moves.isEmpty)
    }

    @Test(arguments: [true, false])
    func unreportedAvailabilityFollowsRequireOnline(requireOnline: Bool) async throws {
        let orthanc = FakeOrthanc()
        var study = F.study
        study.availability = nil
        await orthanc.setArchive(F.secondary, [study])
        let outcome = await F.pipeline(orthanc, try F.configuration(requireOnline: requireOnline)).process(F.message, logger: logger)
        if requireOnline {
            #expect(outcome == .discarded(reason: "availability not reported by secondary archive", archive: .secondary))
        } else {
            #expect(outcome == .succeeded(archive: .secondary, studies: [F.completeRecord(F.study, id: "raw-1.2.3", archive: .secondary)]))
        }
    }

    @Test func missingEverywhereIsDiscarded() async throws {
        let pipeline = F.pipeline(FakeOrthanc(), try F.configuration())
        #expect(await pipeline.process(F.message, logger: logger) == .discarded(reason: "not found in primary or secondary archive"))
    }

    @Test(arguments: [OrthancError.Code.connection, .timeout, .serverError])
    func transientFaultsAreRetriedNeverDiscarded(code: OrthancError.Code) async throws {
        let orthanc = FakeOrthanc()
        await orthanc.setFailure(OrthancError(code: code, status: code == .serverError ? 503 : nil, request: "POST /tools/find"))
        #expect(await F.pipeline(orthanc, try F.configuration()).process(F.message, logger: logger).state == .retry)
    }

    @Test func refusedRetrieveIsDiscardedWithOrthancsReason() async throws {
        let orthanc = FakeOrthanc()
        await orthanc.setArchive(F.primary, [F.study])
        await orthanc.setJobStates(retrieve: .failure)
        #expect(
            await F.pipeline(orthanc, try F.configuration()).process(F.message, logger: logger)
                == .discarded(reason: "retrieve failed: C-MOVE failed (DIMSE status 0xC000)", archive: .primary)
        )
    }

    /// A network failure (no DIMSE status in Orthanc's ErrorDetails, as measured) is transient: retried
    /// with the counts, and the next attempt moves what is missing.
    @Test func networkFailureOfARetrieveIsRetriedWithTheCounts() async throws {
        let orthanc = FakeOrthanc()
        await orthanc.setArchive(F.primary, [F.large])
        await orthanc.setJobStates(
            retrieve: .failure, retrieveDetails: "DicomAssociation - connecting to AET \"VNAQR\": TCP Initialization Error: Connection refused"
        )
        let pipeline = F.pipeline(orthanc, try F.configuration())
        let first = await pipeline.process(F.message, logger: logger)
        #expect(first.state == .retry)
        #expect(first.reason == "C-MOVE failed: C-MOVE failed; 0 of 12 instances in orthanc-raw")
        await orthanc.setJobStates(retrieve: .success)
        #expect(await pipeline.process(F.message, logger: logger).state == .succeeded)
        #expect(await orthanc.rawInstanceCount(studyUID: "1.2.3") == 12)
    }

    /// orthanc-raw restarted while a C-MOVE ran (found by scripts/chaos): part of the study arrived, and the move's
    /// job and raw's queries are gone (404). The top-up of the missing series used the inventory's query, and its 404
    /// failed the job for good. Now the attempt ends in a retry with the counts, and the next one, querying again,
    /// moves only the missing series: the study is never pulled whole twice.
    @Test func queryForgottenByARestartOfRawIsRetriedNotFailed() async throws {
        let orthanc = FakeOrthanc()
        await orthanc.setArchive(F.primary, [F.large])
        await orthanc.setUndeliverable(Set(F.large.series.dropFirst().flatMap(\.instances)))
        await orthanc.setRestarts(duringMoves: true)
        let pipeline = F.pipeline(orthanc, try F.configuration())
        let first = await pipeline.process(F.message, logger: logger)
        #expect(first.state == .retry, "\(first)")
        #expect(first.reason?.contains("4 of 12 instances") == true, "\(first)")
        await orthanc.setRestarts()
        await orthanc.setUndeliverable([])
        #expect(await pipeline.process(F.message, logger: logger).state == .succeeded)
        #expect(await orthanc.rawInstanceCount(studyUID: "1.2.3") == 12)
        #expect(await orthanc.moves.map(\.level) == [.study, .series, .series])
    }

    /// orthanc-raw restarted while it tagged the study (found by scripts/chaos): the modify job is gone (404) and
    /// the files were never rewritten. The job used to succeed, "complete and tagged", with no tag in raw; now
    /// the tag is read again, the attempt retries, and the next one tags the study.
    @Test func tagJobForgottenByARestartOfRawIsCheckedNotTrusted() async throws {
        let orthanc = FakeOrthanc()
        await orthanc.setArchive(F.primary, [F.study])
        await orthanc.setRestarts(duringModifies: true)
        let pipeline = F.pipeline(orthanc, try F.configuration())
        let first = await pipeline.process(F.message, logger: logger)
        #expect(first.state == .retry, "\(first)")
        #expect(await orthanc.raw["raw-1.2.3"]?.project == nil)
        await orthanc.setRestarts()
        #expect(await pipeline.process(F.message, logger: logger).succeededStudyIDs == ["raw-1.2.3"])
        #expect(await orthanc.raw["raw-1.2.3"]?.project == "proj")
        #expect(await orthanc.moves.count == 1)
    }

    @Test func evictedJobIsJudgedByWhatArrived() async throws {
        let orthanc = FakeOrthanc()
        await orthanc.setArchive(F.primary, [F.study])
        await orthanc.setEvictJobs(true)
        #expect(await F.pipeline(orthanc, try F.configuration()).process(F.message, logger: logger).succeededStudyIDs == ["raw-1.2.3"])
    }

    @Test func failedTagDeletesTheStudyAndDiscards() async throws {
        let orthanc = FakeOrthanc()
        await orthanc.setArchive(F.primary, [F.study])
        await orthanc.setJobStates(modify: .failure)
        let outcome = await F.pipeline(orthanc, try F.configuration()).process(F.message, logger: logger)
        #expect(outcome == .discarded(reason: "tagging the study failed: modify failed", archive: .primary))
        #expect(await orthanc.raw.isEmpty)
    }

    @Test func localCopyWithoutTagIsTaggedNotPulled() async throws {
        let orthanc = FakeOrthanc()
        await orthanc.setArchive(F.primary, [F.study])
        await orthanc.setRaw("existing", F.study)
        let outcome = await F.pipeline(orthanc, try F.configuration()).process(F.message, logger: logger)
        #expect(outcome == .succeeded(archive: .local, studies: [F.completeRecord(F.study, id: "existing", archive: .primary)]))
        #expect(await orthanc.raw["existing"]?.project == "proj")
        #expect(await orthanc.moves.isEmpty)
    }
}
