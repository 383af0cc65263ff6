import PixlCore
import PixlImaging
import PixlTesting
import Testing

/// What a message covers (SPEC §2 `series_uid`, §3): only the requested series when it names some, and
/// every study its MRN + accession number match.
struct RequestScopeTests {
    typealias F = PipelineFixtures
    let logger = F.logger

    @Test func seriesLevelRequestPullsAndChecksOnlyThoseSeries() async throws {
        let orthanc = FakeOrthanc()
        await orthanc.setArchive(F.primary, [F.large])
        let message = F.message(series: "1.2.3.3\\1.2.3.1")
        let outcome = await F.pipeline(orthanc, try F.configuration()).process(message, logger: logger)
        #expect(outcome.state == .succeeded && outcome.reason == nil)
        let record = try #require(outcome.studies.first)
        #expect(record.expectedInstances == 8 && record.presentInstances == 8)
        #expect(Set(record.series.map(\.seriesInstanceUID)) == ["1.2.3.1", "1.2.3.3"])
        // Never a study-level move: the two series, at series level; raw holds nothing else.
        #expect(await orthanc.moves.map(\.level) == [.series, .series])
        #expect(await orthanc.raw["raw-1.2.3"]?.series.map(\.uid).sorted() == ["1.2.3.1", "1.2.3.3"])
        #expect(await orthanc.raw["raw-1.2.3"]?.project == "proj")
        // Asked again: complete, nothing moves.
        #expect(await F.pipeline(orthanc, try F.configuration()).process(message, logger: logger).archive == .local)
        #expect(await orthanc.moves.count == 2)
    }

    @Test func requestedSeriesNoArchiveHasIsNamedInTheOutcome() async throws {
        let orthanc = FakeOrthanc()
        await orthanc.setArchive(F.primary, [F.large])
        let outcome = await F.pipeline(orthanc, try F.configuration()).process(F.message(series: "1.2.3.2\\1.2.3.9"), logger: logger)
        #expect(outcome.state == .succeeded)
        #expect(outcome.reason == "requested series not found in the archive holding the study: 1.2.3.9")
        #expect(await orthanc.raw["raw-1.2.3"]?.series.map(\.uid) == ["1.2.3.2"])
    }

    @Test func noRequestedSeriesExistingIsDiscardedPullingNothing() async throws {
        let orthanc = FakeOrthanc()
        await orthanc.setArchive(F.primary, [F.large])
        let outcome = await F.pipeline(orthanc, try F.configuration()).process(F.message(series: "1.2.3.8\\1.2.3.9"), logger: logger)
        #expect(outcome == .discarded(reason: "none of the 2 requested series found in orthanc-raw or the archive holding the study"))
        #expect(await orthanc.moves.isEmpty)
        #expect(await orthanc.raw.isEmpty)
    }

    @Test func requestedSeriesPartlyInRawIsToppedUpAlone() async throws {
        let orthanc = FakeOrthanc()
        await orthanc.setArchive(F.primary, [F.large])
        await orthanc.setRaw("existing", F.large)
        await orthanc.removeFromRaw("existing", keeping: ["1.2.3.1": 0, "1.2.3.2": 2, "1.2.3.3": 0])
        let outcome = await F.pipeline(orthanc, try F.configuration()).process(F.message(series: "1.2.3.2"), logger: logger)
        #expect(outcome.state == .succeeded)
        #expect(outcome.studies.first?.series.map(\.seriesInstanceUID) == ["1.2.3.2"])
        #expect(await orthanc.moves.flatMap(\.uids) == ["1.2.3.2.3", "1.2.3.2.4"])
        #expect(await orthanc.raw["existing"]?.series.map(\.uid) == ["1.2.3.2"])
    }

    @Test func everyStudyMatchingMRNAndAccessionIsPulledCheckedAndTagged() async throws {
        let orthanc = FakeOrthanc()
        let a = FakeOrthanc.Study(uid: "1.2.10", patientID: "MRN-1", accessionNumber: "ACC-1", series: 2, instances: 2)
        let b = FakeOrthanc.Study(uid: "1.2.11", patientID: "MRN-1", accessionNumber: "ACC-1", series: 1, instances: 3)
        let other = FakeOrthanc.Study(uid: "1.2.12", patientID: "MRN-1", accessionNumber: "ACC-2")
        await orthanc.setArchive(F.primary, [a, b, other])
        let outcome = await F.pipeline(orthanc, try F.configuration()).process(F.message(uid: ""), logger: logger)
        #expect(
            outcome
                == .succeeded(
                    archive: .primary,
                    studies: [F.completeRecord(a, id: "raw-1.2.10", archive: .primary), F.completeRecord(b, id: "raw-1.2.11", archive: .primary)]
                )
        )
        #expect(await orthanc.raw["raw-1.2.10"]?.project == "proj")
        #expect(await orthanc.raw["raw-1.2.11"]?.project == "proj")
        #expect(await orthanc.raw["raw-1.2.12"] == nil)
        // One study-level move each, by its own answer.
        #expect(await orthanc.moves.map(\.uids) == [["1.2.10"], ["1.2.11"]])
    }

    /// One study of the pair already local: the other is still found (by MRN + accession) and pulled.
    @Test func aLocalMatchDoesNotHideTheOthers() async throws {
        let orthanc = FakeOrthanc()
        let a = FakeOrthanc.Study(uid: "1.2.10", patientID: "MRN-1", accessionNumber: "ACC-1")
        let b = FakeOrthanc.Study(uid: "1.2.11", patientID: "MRN-1", accessionNumber: "ACC-1")
        await orthanc.setArchive(F.primary, [a, b])
        await orthanc.setRaw("raw-1.2.10", a)
        let outcome = await F.pipeline(orthanc, try F.configuration()).process(F.message(uid: ""), logger: logger)
        #expect(outcome.succeededStudyIDs == ["raw-1.2.10", "raw-1.2.11"])
        #expect(await orthanc.moves.map(\.uids) == [["1.2.11"]])
    }
}
