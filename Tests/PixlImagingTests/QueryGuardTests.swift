import PixlCore
import PixlImaging
import PixlTesting
import Testing

/// SPEC §2's guards in the pipeline, independent of the intake's: a message with an unsafe key sends no
/// C-FIND, an answer is retrieved only if its keys equal what was asked, and a query matching more
/// studies than `PIXL_MAX_STUDIES_PER_MESSAGE` pulls nothing.
struct QueryGuardTests {
    typealias F = PipelineFixtures
    let logger = F.logger

    /// Values that vanish in orthanc-raw's query encoding, so that the key went out empty and the lab's
    /// VNA answered with every study it held. The pipeline refuses them before any call.
    @Test(arguments: [
        ("study_uid", F.message(uid: "中", mrn: "", accession: "")),
        ("mrn", F.message(uid: "", mrn: "\u{1F600}", accession: "\u{200B}")),
        ("mrn", F.message(uid: "", mrn: "\0", accession: "\u{FF0A}")),
        ("accession_number", F.message(uid: "", mrn: "MRN-1", accession: "\u{FF0A}")),
        ("series_uid", F.message(series: "\u{200B}")),
    ])
    func unsafeKeysSendNoQuery(field: String, message: ImagingMessage) async throws {
        let orthanc = FakeOrthanc()
        await orthanc.setArchive(F.primary, [F.study, FakeOrthanc.Study(uid: "9.9", patientID: "P", accessionNumber: "A")], behaviour: .init(ignoresKeys: true))
        let outcome = await F.pipeline(orthanc, try F.configuration()).process(message, logger: logger)
        #expect(outcome.state == .failed)
        #expect(outcome.reason?.hasPrefix("invalid message: \(field) ") == true, "\(outcome)")
        #expect(await orthanc.calls.isEmpty)
        #expect(await orthanc.finds.isEmpty)
        #expect(await orthanc.moves.isEmpty)
    }

    /// An archive that ignores the keys (as when a key arrives empty) answers with studies not asked
    /// for: only the one whose UID equals the message's is moved.
    @Test func onlyTheAnswerEqualToTheQueryIsRetrieved() async throws {
        let orthanc = FakeOrthanc()
        let others = (1...5).map { FakeOrthanc.Study(uid: "9.\($0)", patientID: "P\($0)", accessionNumber: "A\($0)") }
        await orthanc.setArchive(F.primary, others + [F.study], behaviour: .init(ignoresKeys: true))
        let outcome = await F.pipeline(orthanc, try F.configuration()).process(F.message, logger: logger)
        #expect(outcome.succeededStudyIDs == ["raw-1.2.3"])
        #expect(await orthanc.moves.map(\.uids) == [["1.2.3"]])
        #expect(await orthanc.raw.keys.sorted() == ["raw-1.2.3"])
    }

    @Test func answersThatAreNotTheStudyAskedAreNeverRetrieved() async throws {
        let orthanc = FakeOrthanc()
        let others = (1...5).map { FakeOrthanc.Study(uid: "9.\($0)", patientID: "MRN-1", accessionNumber: "A\($0)") }
        await orthanc.setArchive(F.primary, others, behaviour: .init(ignoresKeys: true))
        let outcome = await F.pipeline(orthanc, try F.configuration(secondaryAE: nil)).process(F.message, logger: logger)
        #expect(outcome == .discarded(reason: "not found in primary archive and no secondary archive"))
        #expect(await orthanc.moves.isEmpty)
    }

    /// Series answers of another study are not part of the inventory (nor moved).
    @Test func seriesAnswersOfAnotherStudyAreIgnored() async throws {
        let orthanc = FakeOrthanc()
        let other = FakeOrthanc.Study(uid: "9.1", patientID: "P", accessionNumber: "A", series: 2, instances: 2)
        await orthanc.setArchive(F.primary, [other, F.study], behaviour: .init(ignoresKeys: true))
        await orthanc.setRaw("existing", F.study)
        let outcome = await F.pipeline(orthanc, try F.configuration()).process(F.message, logger: logger)
        #expect(outcome.studies.map(\.expectedInstances) == [1])
        #expect(await orthanc.moves.isEmpty)
    }

    @Test func moreStudiesThanTheLimitFailsPullingNothing() async throws {
        let orthanc = FakeOrthanc()
        let studies = (1...4).map { FakeOrthanc.Study(uid: "1.2.\($0)", patientID: "MRN-1", accessionNumber: "ACC-1") }
        await orthanc.setArchive(F.primary, studies)
        let outcome = await F.pipeline(orthanc, try F.configuration(maxStudies: 3)).process(F.message(uid: ""), logger: logger)
        #expect(outcome == .failed(error: "query matched 4 studies, more than PIXL_MAX_STUDIES_PER_MESSAGE (3): nothing pulled"))
        #expect(await orthanc.moves.isEmpty)
        #expect(await orthanc.finds.map(\.level) == [.study])
        // At the limit, all are pulled.
        let atLimit = await F.pipeline(orthanc, try F.configuration(maxStudies: 4)).process(F.message(uid: ""), logger: logger)
        #expect(atLimit.succeededStudyIDs.count == 4)
    }

    @Test func moreLocalStudiesThanTheLimitFailsToo() async throws {
        let orthanc = FakeOrthanc()
        for n in 1...3 {
            await orthanc.setRaw("local-\(n)", FakeOrthanc.Study(uid: "1.2.\(n)", patientID: "MRN-1", accessionNumber: "ACC-1"))
        }
        let outcome = await F.pipeline(orthanc, try F.configuration(maxStudies: 2)).process(F.message(uid: ""), logger: logger)
        #expect(outcome.state == .failed && outcome.reason?.contains("matched 3 studies") == true)
        #expect(await orthanc.finds.isEmpty)
        #expect(await orthanc.calls(matching: "POST /studies").isEmpty)
    }
}
