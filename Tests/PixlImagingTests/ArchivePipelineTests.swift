import Foundation
import Logging
import PixlCore
import PixlImaging
import PixlTesting
import Testing

/// The pipeline's decisions against an in-memory Orthanc. The same scenarios run against real Orthanc
/// servers in IntegrationTests; these pin the branches that a real lab cannot easily provoke.
struct ArchivePipelineTests {
    static let primary = "UCPRIMARYQR"
    static let secondary = "UCSECONDARYQR"
    let logger = Logger(label: "test")

    static func configuration(
        secondaryAE: String? = "PACSQR",
        window: SecondaryQueryWindow.Hours = .always,
        requireOnline: Bool = true
    ) throws -> ArchivePipeline<FakeOrthanc>.Configuration {
        var values = [
            "ORTHANC_RAW_URL": "http://127.0.0.1:1", "ORTHANC_RAW_AE_TITLE": "ORTHANCRAW",
            "PRIMARY_DICOM_SOURCE_MODALITY": primary, "PRIMARY_DICOM_SOURCE_AE_TITLE": "VNAQR",
            "PIXL_REQUIRE_ONLINE": "\(requireOnline)",
        ]
        if let secondaryAE {
            values["SECONDARY_DICOM_SOURCE_MODALITY"] = secondary
            values["SECONDARY_DICOM_SOURCE_AE_TITLE"] = secondaryAE
        }
        var configuration = ArchivePipeline<FakeOrthanc>.Configuration(try PixlConfiguration(environment: Environment(values)))
        configuration.secondaryWindow.hours = window
        return configuration
    }

    static let message = ImagingMessage(
        mrn: "MRN-1", accessionNumber: "ACC-1", studyUID: "1.2.3", studyDate: CalendarDate(year: 2024, month: 1, day: 2)!,
        procedureOccurrenceID: 1, projectName: "proj", extractGeneratedTimestamp: ExtractTimestamp(date: CalendarDate(year: 2024, month: 1, day: 2)!)!
    )
    static let study = FakeOrthanc.Study(uid: "1.2.3", patientID: "MRN-1", accessionNumber: "ACC-1")

    @Test func pullsFromPrimaryAndTags() async throws {
        let orthanc = FakeOrthanc()
        await orthanc.setArchive(Self.primary, [Self.study])
        let pipeline = ArchivePipeline(orthanc: orthanc, configuration: try Self.configuration())
        let outcome = await pipeline.process(Self.message, logger: logger)
        #expect(outcome == .succeeded(archive: .primary, studies: ["raw-1.2.3"]))
        #expect(await orthanc.raw["raw-1.2.3"]?.project == "proj")
    }

    @Test func secondTimeIsLocalWithoutAnotherRetrieve() async throws {
        let orthanc = FakeOrthanc()
        await orthanc.setArchive(Self.primary, [Self.study])
        let pipeline = ArchivePipeline(orthanc: orthanc, configuration: try Self.configuration())
        _ = await pipeline.process(Self.message, logger: logger)
        let second = await pipeline.process(Self.message, logger: logger)
        #expect(second == .succeeded(archive: .local, studies: ["raw-1.2.3"]))
        #expect(await orthanc.calls(matching: "POST /queries").count == 1)
    }

    @Test func wrongUIDFallsBackToIdentifiers() async throws {
        let orthanc = FakeOrthanc()
        await orthanc.setArchive(Self.primary, [Self.study])
        var message = Self.message
        message.studyUID = "9.9.9"
        let pipeline = ArchivePipeline(orthanc: orthanc, configuration: try Self.configuration())
        #expect(await pipeline.process(message, logger: logger) == .succeeded(archive: .primary, studies: ["raw-1.2.3"]))
        #expect(await orthanc.calls(matching: "POST /modalities/\(Self.primary)/query").count == 2)
    }

    @Test func closedWindowDefersUntilItOpens() async throws {
        let orthanc = FakeOrthanc()
        await orthanc.setArchive(Self.secondary, [Self.study])
        let configuration = try Self.configuration(window: .range(start: 20 * 60, end: 8 * 60))
        // Wednesday 2026-11-25 12:00 UTC = 12:00 in London.
        let noon = Date(timeIntervalSince1970: 1_764_072_000)
        let pipeline = ArchivePipeline(orthanc: orthanc, configuration: configuration, now: { noon })
        guard case .deferred(let until, _) = await pipeline.process(Self.message, logger: logger) else {
            Issue.record("expected deferred")
            return
        }
        #expect(until == noon.addingTimeInterval(8 * 3600))
        #expect(await orthanc.calls(matching: "POST /modalities/\(Self.secondary)").isEmpty)
    }

    @Test func secondaryEqualToPrimaryIsDiscarded() async throws {
        let orthanc = FakeOrthanc()
        await orthanc.setArchive(Self.secondary, [Self.study])
        let pipeline = ArchivePipeline(orthanc: orthanc, configuration: try Self.configuration(secondaryAE: "VNAQR"))
        #expect(
            await pipeline.process(Self.message, logger: logger)
                == .discarded(reason: "not found in primary archive and no secondary archive")
        )
    }

    @Test(arguments: ["NEARLINE", "OFFLINE", "UNAVAILABLE"])
    func notOnlineIsDiscardedNamingTheAvailability(availability: String) async throws {
        let orthanc = FakeOrthanc()
        var study = Self.study
        study.availability = availability
        await orthanc.setArchive(Self.secondary, [study])
        let pipeline = ArchivePipeline(orthanc: orthanc, configuration: try Self.configuration())
        let outcome = await pipeline.process(Self.message, logger: logger)
        #expect(outcome.state == .discarded)
        #expect(outcome.reason?.contains(availability) == true)
        #expect(await orthanc.calls(matching: "POST /queries").isEmpty)
    }

    @Test(arguments: [true, false])
    func unreportedAvailabilityFollowsRequireOnline(requireOnline: Bool) async throws {
        let orthanc = FakeOrthanc()
        var study = Self.study
        study.availability = nil
        await orthanc.setArchive(Self.secondary, [study])
        let pipeline = ArchivePipeline(orthanc: orthanc, configuration: try Self.configuration(requireOnline: requireOnline))
        let outcome = await pipeline.process(Self.message, logger: logger)
        if requireOnline {
            #expect(outcome == .discarded(reason: "availability not reported by secondary archive", archive: .secondary))
        } else {
            #expect(outcome == .succeeded(archive: .secondary, studies: ["raw-1.2.3"]))
        }
    }

    @Test func missingEverywhereIsDiscarded() async throws {
        let pipeline = ArchivePipeline(orthanc: FakeOrthanc(), configuration: try Self.configuration())
        #expect(await pipeline.process(Self.message, logger: logger) == .discarded(reason: "not found in primary or secondary archive"))
    }

    @Test(arguments: [OrthancError.Code.connection, .timeout, .serverError])
    func transientFaultsAreRetriedNeverDiscarded(code: OrthancError.Code) async throws {
        let orthanc = FakeOrthanc()
        await orthanc.setFailure(OrthancError(code: code, status: code == .serverError ? 503 : nil, request: "POST /tools/find"))
        let pipeline = ArchivePipeline(orthanc: orthanc, configuration: try Self.configuration())
        #expect(await pipeline.process(Self.message, attempt: 3, logger: logger).state == .retry)
    }

    @Test func retrieveFailureIsDiscardedWithOrthancsReason() async throws {
        let orthanc = FakeOrthanc()
        await orthanc.setArchive(Self.primary, [Self.study])
        await orthanc.setJobStates(retrieve: .failure)
        let pipeline = ArchivePipeline(orthanc: orthanc, configuration: try Self.configuration())
        #expect(await pipeline.process(Self.message, logger: logger) == .discarded(reason: "retrieve failed: C-MOVE failed", archive: .primary))
    }

    @Test func evictedJobIsJudgedByWhatArrived() async throws {
        let orthanc = FakeOrthanc()
        await orthanc.setArchive(Self.primary, [Self.study])
        await orthanc.setEvictJobs(true)
        let pipeline = ArchivePipeline(orthanc: orthanc, configuration: try Self.configuration())
        #expect(await pipeline.process(Self.message, logger: logger) == .succeeded(archive: .primary, studies: ["raw-1.2.3"]))
    }

    @Test func failedTagDeletesTheStudyAndDiscards() async throws {
        let orthanc = FakeOrthanc()
        await orthanc.setArchive(Self.primary, [Self.study])
        await orthanc.setJobStates(modify: .failure)
        let pipeline = ArchivePipeline(orthanc: orthanc, configuration: try Self.configuration())
        let outcome = await pipeline.process(Self.message, logger: logger)
        #expect(outcome == .discarded(reason: "tagging the study failed: modify failed", archive: .primary))
        #expect(await orthanc.raw.isEmpty)
    }

    @Test func localCopyWithoutTagIsTaggedNotPulled() async throws {
        let orthanc = FakeOrthanc()
        await orthanc.setRaw("existing", Self.study)
        let pipeline = ArchivePipeline(orthanc: orthanc, configuration: try Self.configuration())
        #expect(await pipeline.process(Self.message, logger: logger) == .succeeded(archive: .local, studies: ["existing"]))
        #expect(await orthanc.raw["existing"]?.project == "proj")
        #expect(await orthanc.calls(matching: "POST /modalities").isEmpty)
    }

    @Test(.timeLimit(.minutes(1)))
    func backPressureWaitsForPendingJobsWithoutABusyLoop() async throws {
        let orthanc = FakeOrthanc()
        await orthanc.setOtherJobs([OrthancJob(id: "busy", state: .pending)])
        let pipeline = ArchivePipeline(orthanc: orthanc, configuration: try Self.configuration())
        let waiter = Task { try await pipeline.waitWhileOrthancIsBusy(logger: logger) }
        try await Task.sleep(for: .seconds(1))
        // Still waiting, having polled a handful of times (50, 75, 112, 169, 253, 380 ms back-off), not hundreds.
        let pollsWhileBusy = await orthanc.calls(matching: "GET /jobs").count
        #expect((1...8).contains(pollsWhileBusy))
        await orthanc.setOtherJobs([OrthancJob(id: "busy", state: .success)])
        try await waiter.value
        #expect(await orthanc.calls(matching: "GET /jobs").count > pollsWhileBusy)
    }
}
