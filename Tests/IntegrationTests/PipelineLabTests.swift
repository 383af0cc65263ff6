import Foundation
import Logging
import PixlCore
import PixlImaging
import Testing

extension LabSuites {
    /// The pipeline against the real Orthanc servers of `scripts/lab` (SPEC §3). Each test starts from
    /// `scripts/lab reset` and asserts on what orthanc-raw really holds.
    @Suite(.serialized, .timeLimit(.minutes(2)))
    struct PipelineLabTests {
        let lab: Lab
        let logger = Logger(label: "lab-test")

        init() throws {
            lab = try Lab.current()
            try lab.reset()
        }

        @Test func studyInVNAIsPulledAndTaggedKeepingItsIdentity() async throws {
            let study = try #require(lab.studies["vna-single"])
            let outcome = try await lab.pipeline().process(try lab.message("vna-single"), logger: logger)
            #expect(outcome.archive == .primary && outcome.succeededStudyIDs == [study.orthanc_study_id!], "\(outcome)")

            // One copy, with the Orthanc id the VNA gives it (the id derives from the UIDs).
            #expect(try await lab.rawStudies(uid: study.study_uid) == [study.orthanc_study_id!])
            let instances = try await lab.rawInstances(study: study.orthanc_study_id!)
            #expect(instances.count == study.instance_count)
            for instance in instances {
                #expect(instance["project"] == "lab-test")
                #expect(instance["creator"] == "UCLH PIXL")
                #expect(instance["study"] == study.study_uid)
                #expect(study.series_uids.contains(instance["series"] ?? ""))
            }
            // The stored file itself carries the private creator as LO and the project tag.
            let dump = try await lab.dump(instance: instances[0]["id"]!)
            #expect(dump.contains("(000d,0010) LO [UCLH PIXL]"))
            #expect(dump.contains("(000d,1001) LO [lab-test]"))
        }

        @Test func sameMessageTwiceIsNotPulledTwice() async throws {
            let pipeline = try lab.pipeline()
            let message = try lab.message("vna-single")
            #expect(await pipeline.process(message, logger: logger).state == .succeeded)
            let movesAfterFirst = try await lab.retrieveJobCount(studyUID: message.studyUID)
            #expect(await pipeline.process(message, logger: logger).archive == .local)
            #expect(try await lab.retrieveJobCount(studyUID: message.studyUID) == movesAfterFirst)
        }

        @Test func wrongStudyUIDFallsBackToMRNAndAccession() async throws {
            let study = try #require(lab.studies["vna-uid-mismatch"])
            let message = try lab.message("vna-uid-mismatch", studyUID: study.claimed_study_uid!)
            let outcome = try await lab.pipeline().process(message, logger: logger)
            #expect(outcome.archive == .primary && outcome.succeededStudyIDs == [study.orthanc_study_id!], "\(outcome)")
            #expect(try await lab.rawInstances(study: study.orthanc_study_id!).allSatisfy { $0["project"] == "lab-test" })
        }

        @Test func multiSeriesStudyArrivesWhole() async throws {
            let study = try #require(lab.studies["vna-multi"])
            let outcome = try await lab.pipeline().process(try lab.message("vna-multi"), logger: logger)
            #expect(outcome.state == .succeeded)
            let instances = try await lab.rawInstances(study: study.orthanc_study_id!)
            #expect(instances.count == study.instance_count)
            #expect(Set(instances.compactMap { $0["series"] }) == Set(study.series_uids))
            #expect(instances.allSatisfy { $0["project"] == "lab-test" })
        }

        @Test func studiesSharingIdentifiersAreAllKept() async throws {
            let a = try #require(lab.studies["vna-shared-acc-a"])
            let b = try #require(lab.studies["vna-shared-acc-b"])
            let outcome = try await lab.pipeline().process(try lab.message("vna-shared-acc-a", studyUID: ""), logger: logger)
            #expect(Set(outcome.succeededStudyIDs) == [a.orthanc_study_id!, b.orthanc_study_id!])
            // Asked again: both are local and tagged, neither deleted.
            let again = try await lab.pipeline().process(try lab.message("vna-shared-acc-a", studyUID: ""), logger: logger)
            #expect(again.archive == .local)
            #expect(Set(again.succeededStudyIDs) == [a.orthanc_study_id!, b.orthanc_study_id!])
        }

        @Test func localCopyLackingTheTagIsTaggedNotPulledAgain() async throws {
            let study = try #require(lab.studies["raw-untagged"])
            let id = try #require(try await lab.rawStudies(uid: study.study_uid).first)
            #expect(try await lab.rawInstances(study: id).allSatisfy { $0["project"] == nil })
            let movesBefore = try await lab.retrieveJobCount(studyUID: study.study_uid)
            let outcome = try await lab.pipeline().process(try lab.message("raw-untagged"), logger: logger)
            #expect(outcome.archive == .local && outcome.succeededStudyIDs == [id], "\(outcome)")
            #expect(try await lab.retrieveJobCount(studyUID: study.study_uid) == movesBefore)
            #expect(try await lab.rawInstances(study: id).allSatisfy { $0["project"] == "lab-test" })
            #expect(try await lab.rawStudies(uid: study.study_uid) == [id])
        }

        @Test(arguments: [true, false])
        func studyOnlyInPACSIsPulledWithOrWithoutUID(withUID: Bool) async throws {
            let study = try #require(lab.studies["pacs-online"])
            let message = try lab.message("pacs-online", studyUID: withUID ? nil : "")
            let outcome = try await lab.pipeline().process(message, logger: logger)
            #expect(outcome.archive == .secondary)
            #expect(outcome.state == .succeeded)
            let ids = try await lab.rawStudies(uid: study.study_uid)
            #expect(ids.count == 1)
            #expect(try await lab.rawInstances(study: ids[0]).count == study.instance_count)
        }

        @Test func missingEverywhereIsDiscarded() async throws {
            let message = ImagingMessage(
                mrn: "LAB-MRN-NONE", accessionNumber: "LAB-ACC-NONE", studyUID: "2.25.1", studyDate: CalendarDate(year: 2024, month: 1, day: 1)!,
                procedureOccurrenceID: 1, projectName: "lab-test", extractGeneratedTimestamp: ExtractTimestamp(date: CalendarDate(year: 2024, month: 1, day: 1)!)!
            )
            let outcome = try await lab.pipeline().process(message, logger: logger)
            #expect(outcome == .discarded(reason: "not found in primary or secondary archive"))
        }

        @Test func closedSecondaryWindowDefers() async throws {
            // Wednesday 2026-11-25 12:00 in London: inside working hours.
            let noon = Date(timeIntervalSince1970: 1_764_072_000)
            let pipeline = try lab.pipeline(["PIXL_SECONDARY_QUERY_HOURS": "20:00-08:00"], now: { noon })
            let outcome = await pipeline.process(try lab.message("pacs-online"), logger: logger)
            #expect(outcome.state == .deferred)
            if case .deferred(let until, _) = outcome { #expect(until == noon.addingTimeInterval(8 * 3600)) }
            #expect(try await lab.rawStudies(uid: lab.studies["pacs-online"]!.study_uid).isEmpty)
        }

        @Test func secondaryWithThePrimarysAETitleIsDiscarded() async throws {
            let pipeline = try lab.pipeline(["SECONDARY_DICOM_SOURCE_AE_TITLE": lab.environment["PRIMARY_DICOM_SOURCE_AE_TITLE"]!])
            let outcome = await pipeline.process(try lab.message("pacs-online"), logger: logger)
            #expect(outcome == .discarded(reason: "not found in primary archive and no secondary archive"))
        }

        @Test func nearlineIsDiscarded() async throws {
            let uid = try #require(lab.studies["pacs-nearline"]).study_uid
            let movesBefore = try await lab.retrieveJobCount(studyUID: uid)
            let outcome = try await lab.pipeline().process(try lab.message("pacs-nearline"), logger: logger)
            #expect(outcome == .discarded(reason: "study is NEARLINE in secondary archive, not ONLINE", archive: .secondary))
            #expect(try await lab.retrieveJobCount(studyUID: uid) == movesBefore)
        }

        /// `pacs-unreported` answers an empty InstanceAvailability (Orthanc); `pacs2-unreported` omits it (dcmqrscp).
        @Test(arguments: [("pacs-unreported", true), ("pacs-unreported", false), ("pacs2-unreported", true), ("pacs2-unreported", false)])
        func unreportedAvailabilityFollowsRequireOnline(key: String, requireOnline: Bool) async throws {
            var overrides = ["PIXL_REQUIRE_ONLINE": "\(requireOnline)"]
            if key.hasPrefix("pacs2") {
                overrides["SECONDARY_DICOM_SOURCE_MODALITY"] = lab.environment["LAB_PACS2_MODALITY"]
                overrides["SECONDARY_DICOM_SOURCE_AE_TITLE"] = lab.environment["LAB_PACS2_AE_TITLE"]
            }
            let outcome = try await lab.pipeline(overrides).process(try lab.message(key), logger: logger)
            let arrived = try await lab.rawStudies(uid: lab.studies[key]!.study_uid)
            if requireOnline {
                #expect(outcome == .discarded(reason: "availability not reported by secondary archive", archive: .secondary))
                #expect(arrived.isEmpty)
            } else {
                #expect(outcome.state == .succeeded)
                #expect(arrived.count == 1)
            }
        }

        @Test func unreachableOrthancRawIsRetriedNeverDiscarded() async throws {
            // Nothing listens on port 9 of loopback: connection refused.
            let pipeline = try lab.pipeline(["ORTHANC_RAW_URL": "http://127.0.0.1:9"])
            let outcome = await pipeline.process(try lab.message("vna-single"), logger: logger)
            #expect(outcome.state == .retry)
        }
    }
}
