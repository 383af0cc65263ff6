import Foundation
import Logging
import PixlCore
import PixlImaging
import Testing

extension LabSuites {
    /// SPEC §3 Completeness, §2 safe keys, series-level requests and shared identifiers, against the real
    /// Orthanc servers of `scripts/lab`, asserted from Orthanc itself: instances per series in raw, the
    /// `NewInstance` changes raw logged, the C-MOVE jobs it ran and the C-FINDs it sent.
    @Suite(.serialized, .timeLimit(.minutes(3)))
    struct CompletenessLabTests {
        let lab: Lab
        let logger = Logger(label: "lab-test")

        init() throws {
            lab = try Lab.current()
            try lab.reset()
        }

        /// Pulls a study whole, as a first message would.
        func pull(_ key: String, _ overrides: [String: String] = [:]) async throws {
            let outcome = try await lab.pipeline(overrides).process(try lab.message(key), logger: logger)
            try #require(outcome.state == .succeeded, "\(outcome)")
        }

        func expectComplete(_ key: String, _ outcome: PipelineOutcome) async throws {
            let study = try #require(lab.studies[key])
            let id = try #require(study.orthanc_study_id)
            #expect(outcome.state == .succeeded, "\(outcome)")
            #expect(try await lab.rawSeriesCounts(study: id) == lab.archiveSeriesCounts(key))
            #expect(try await lab.rawInstances(study: id).allSatisfy { $0["project"] == "lab-test" })
            let record = try #require(outcome.studies.first { $0.studyInstanceUID == study.study_uid })
            #expect(record.orthancID == id && record.expectedInstances == study.instance_count && record.presentInstances == study.instance_count)
        }

        /// The scenario: vna-multi pulled, 5 of its 6 instances deleted, the same message again.
        /// It used to succeed as local at 1 of 6; now the two lost series come back at series level and
        /// the lost instance of the third at instance level: 5 instances received, no more.
        @Test func multiSeriesStudyCutToOneInstanceIsToppedUp() async throws {
            try await pull("vna-multi")
            try lab.partial("vna-multi", series: 1, keep: 1)
            try lab.partial("vna-multi", series: 2, keep: 0)
            try lab.partial("vna-multi", series: 3, keep: 0)
            let marks = try await lab.marks()
            let outcome = try await lab.pipeline().process(try lab.message("vna-multi"), logger: logger)
            try await expectComplete("vna-multi", outcome)
            #expect(outcome.archive == .primary)
            // 5 instances arrived, by the jobs below: nothing raw held was moved again.
            #expect(try await lab.arrivedInstances(since: marks) == 5)
            let moves = try await lab.moveJobs(since: marks)
            #expect(moves.filter { $0.level == "SERIES" }.count == 2, "\(moves)")
            #expect(moves.filter { $0.level == "IMAGE" } == [Lab.MoveJob(level: "IMAGE", resources: 1, state: "Success")], "\(moves)")
            #expect(!moves.contains { $0.level == "STUDY" })
        }

        @Test func missingInstancesOfALargeSeriesAloneArrive() async throws {
            try await pull("vna-large")
            try lab.partial("vna-large", series: 2, keep: 10)
            let marks = try await lab.marks()
            let outcome = try await lab.pipeline().process(try lab.message("vna-large"), logger: logger)
            try await expectComplete("vna-large", outcome)
            #expect(try await lab.arrivedInstances(since: marks) == 30)
            // One IMAGE-level job naming the 30 missing instances (a C-FIND matching exactly their UIDs).
            #expect(try await lab.moveJobs(since: marks) == [Lab.MoveJob(level: "IMAGE", resources: 30, state: "Success")])
            // C-FINDs: the SERIES-level inventory, the listing of series 2 only, and the exact match.
            let queries = try await lab.sentQueries(since: marks)
            #expect(queries.map(\.level).sorted() == ["Instance", "Instance", "Series"], "\(queries)")
            // Tagging rewrites the series that received instances, not the 120 of the study.
            #expect(try await lab.modifyJobs(since: marks) == ["Series of 40"])
        }

        @Test func wholeSeriesDeletedComesBackAtSeriesLevel() async throws {
            try await pull("vna-large")
            try lab.partial("vna-large", series: 3, keep: 0)
            let marks = try await lab.marks()
            let outcome = try await lab.pipeline().process(try lab.message("vna-large"), logger: logger)
            try await expectComplete("vna-large", outcome)
            #expect(try await lab.arrivedInstances(since: marks) == 40)
            #expect(try await lab.moveJobs(since: marks) == [Lab.MoveJob(level: "SERIES", resources: 1, state: "Success")])
            #expect(try await lab.modifyJobs(since: marks) == ["Series of 40"])
            // Counts told which series was missing: no instance listing.
            #expect(try await lab.sentQueries(since: marks).map(\.level) == ["Series"])
        }

        @Test func completeLocalStudyCostsOneSeriesLevelFindAndNoTransfer() async throws {
            try await pull("vna-large")
            let marks = try await lab.marks()
            let outcome = try await lab.pipeline().process(try lab.message("vna-large"), logger: logger)
            try await expectComplete("vna-large", outcome)
            #expect(outcome.archive == .local)
            #expect(try await lab.sentQueries(since: marks) == [Lab.SentQuery(level: "Series", modality: "UCPRIMARYQR")])
            #expect(try await lab.moveJobs(since: marks).isEmpty)
            #expect(try await lab.arrivedInstances(since: marks) == 0)
        }

        @Test func seriesLevelRequestLeavesOnlyTheRequestedSeries() async throws {
            let study = try #require(lab.studies["vna-large"])
            var message = try lab.message("vna-large")
            message.seriesUID = study.series_uids[1]
            let marks = try await lab.marks()
            let outcome = try await lab.pipeline().process(message, logger: logger)
            #expect(outcome.state == .succeeded && outcome.reason == nil, "\(outcome)")
            #expect(try await lab.rawSeriesCounts(study: study.orthanc_study_id!) == [study.series_uids[1]: 40])
            #expect(try await lab.rawInstances(study: study.orthanc_study_id!).allSatisfy { $0["project"] == "lab-test" })
            #expect(try await lab.moveJobs(since: marks) == [Lab.MoveJob(level: "SERIES", resources: 1, state: "Success")])
            #expect(try await lab.arrivedInstances(since: marks) == 40)
            #expect(outcome.studies.first?.series.map(\.seriesInstanceUID) == [study.series_uids[1]])
        }

        @Test func requestedSeriesNoArchiveHasIsNamedAndNoneExistingIsDiscarded() async throws {
            let study = try #require(lab.studies["vna-large"])
            var message = try lab.message("vna-large")
            message.seriesUID = "\(study.series_uids[0])\\2.25.4242999"
            let outcome = try await lab.pipeline().process(message, logger: logger)
            #expect(outcome.state == .succeeded)
            #expect(outcome.reason == "requested series not found in the archive holding the study: 2.25.4242999")
            #expect(try await lab.rawSeriesCounts(study: study.orthanc_study_id!) == [study.series_uids[0]: 40])

            message.seriesUID = "2.25.4242999\\2.25.4242998"
            let marks = try await lab.marks()
            let none = try await lab.pipeline().process(message, logger: logger)
            #expect(none == .discarded(reason: "none of the 2 requested series found in orthanc-raw or the archive holding the study"))
            #expect(try await lab.moveJobs(since: marks).isEmpty)
        }

        @Test func bothStudiesSharingIdentifiersArePulledCheckedAndTagged() async throws {
            let outcome = try await lab.pipeline().process(try lab.message("vna-shared-acc-a", studyUID: ""), logger: logger)
            #expect(outcome.studies.count == 2, "\(outcome)")
            try await expectComplete("vna-shared-acc-a", outcome)
            try await expectComplete("vna-shared-acc-b", outcome)
        }

        /// dcmqrscp gives no NumberOfSeriesRelatedInstances: each series is listed at IMAGE level (with its
        /// SeriesInstanceUID), and the missing instances moved from it at instance level.
        @Test func archiveWithoutCountsIsListedAndToppedUp() async throws {
            let pacs2 = [
                "SECONDARY_DICOM_SOURCE_MODALITY": lab.environment["LAB_PACS2_MODALITY"]!,
                "SECONDARY_DICOM_SOURCE_AE_TITLE": lab.environment["LAB_PACS2_AE_TITLE"]!, "PIXL_REQUIRE_ONLINE": "false",
            ]
            try await pull("pacs2-multi", pacs2)
            try lab.partial("pacs2-multi", series: 2, keep: 1)
            let marks = try await lab.marks()
            let outcome = try await lab.pipeline(pacs2).process(try lab.message("pacs2-multi"), logger: logger)
            try await expectComplete("pacs2-multi", outcome)
            #expect(outcome.archive == .secondary)
            #expect(try await lab.arrivedInstances(since: marks) == 2)
            #expect(try await lab.moveJobs(since: marks) == [Lab.MoveJob(level: "IMAGE", resources: 2, state: "Success")])
            let queries = try await lab.sentQueries(since: marks)
            #expect(queries.filter { $0.level == "Instance" }.count == 3, "one listing per series, then the exact match: \(queries)")
        }

        @Test func localStudyNoArchiveListsIsKeptSayingSo() async throws {
            let study = try #require(lab.studies["raw-untagged"])
            let outcome = try await lab.pipeline().process(try lab.message("raw-untagged"), logger: logger)
            #expect(outcome.state == .succeeded && outcome.archive == .local)
            #expect(outcome.reason?.contains("no reachable archive lists it any more") == true, "\(outcome)")
            #expect(try await lab.rawInstances(study: study.orthanc_study_id!).count == study.instance_count)
        }

        /// Values that vanish in orthanc-raw's query encoding: before this rule, the C-FIND went out with
        /// an empty key and the VNA answered every study. Now refused before any call: raw sent no C-FIND
        /// and ran no C-MOVE.
        @Test func unsafeIdentifiersSendNoQueryAndMoveNothing() async throws {
            let marks = try await lab.marks()
            let studiesBefore = try await lab.raw("/studies") as! [String]
            let unsafe: [(String, ImagingMessage)] = [
                ("study_uid", try lab.message("vna-single", studyUID: "中", identifiers: false)),
                ("mrn", Self.identifiers(try lab.message("vna-single", studyUID: ""), mrn: "\u{1F600}", accession: "\u{200B}")),
                ("mrn", Self.identifiers(try lab.message("vna-single", studyUID: ""), mrn: "\0", accession: "\0")),
                ("accession_number", Self.identifiers(try lab.message("vna-single", studyUID: ""), mrn: "LAB-MRN-0001", accession: "\u{FF0A}")),
            ]
            for (field, message) in unsafe {
                let outcome = try await lab.pipeline().process(message, logger: logger)
                #expect(outcome.state == .failed && outcome.reason?.hasPrefix("invalid message: \(field) ") == true, "\(outcome)")
            }
            #expect(try await lab.sentQueries(since: marks).isEmpty)
            #expect(try await lab.moveJobs(since: marks).isEmpty)
            #expect(try await lab.raw("/studies") as! [String] == studiesBefore)
        }

        static func identifiers(_ message: ImagingMessage, mrn: String, accession: String) -> ImagingMessage {
            var message = message
            message.mrn = mrn
            message.accessionNumber = accession
            return message
        }
    }
}
