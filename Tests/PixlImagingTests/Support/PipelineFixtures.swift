import Foundation
import Logging
import PixlCore
import PixlImaging
import PixlTesting

/// Configurations, messages and studies shared by the pipeline's unit tests.
enum PipelineFixtures {
    static let primary = "UCPRIMARYQR"
    static let secondary = "UCSECONDARYQR"
    static let logger = Logger(label: "test")

    static func configuration(
        secondaryAE: String? = "PACSQR",
        window: QueryWindow.Hours = .always,
        requireOnline: Bool = true,
        maxStudies: Int = 10
    ) throws -> ArchivePipeline<FakeOrthanc>.Configuration {
        var values = [
            "ORTHANC_RAW_URL": "http://127.0.0.1:1", "ORTHANC_RAW_AE_TITLE": "ORTHANCRAW",
            "PRIMARY_DICOM_SOURCE_MODALITY": primary, "PRIMARY_DICOM_SOURCE_AE_TITLE": "VNAQR",
            "PIXL_REQUIRE_ONLINE": "\(requireOnline)", "PIXL_MAX_STUDIES_PER_MESSAGE": "\(maxStudies)",
        ]
        if let secondaryAE {
            values["SECONDARY_DICOM_SOURCE_MODALITY"] = secondary
            values["SECONDARY_DICOM_SOURCE_AE_TITLE"] = secondaryAE
        }
        var configuration = ArchivePipeline<FakeOrthanc>.Configuration(try PixlConfiguration(environment: Environment(values)))
        configuration.secondaryTimetable.window.hours = window
        return configuration
    }

    static func pipeline(_ orthanc: FakeOrthanc, _ configuration: ArchivePipeline<FakeOrthanc>.Configuration) -> ArchivePipeline<FakeOrthanc> {
        ArchivePipeline(orthanc: orthanc, configuration: configuration)
    }

    static let date = CalendarDate(year: 2024, month: 1, day: 2)!

    static func message(uid: String = "1.2.3", mrn: String = "MRN-1", accession: String = "ACC-1", series: String = "") -> ImagingMessage {
        ImagingMessage(
            mrn: mrn, accessionNumber: accession, studyUID: uid, seriesUID: series, studyDate: date, procedureOccurrenceID: 1,
            projectName: "proj", extractGeneratedTimestamp: ExtractTimestamp(date: date)!
        )
    }

    static let message = message()
    static let study = FakeOrthanc.Study(uid: "1.2.3", patientID: "MRN-1", accessionNumber: "ACC-1")

    /// A study of 3 series × 4 instances: series `1.2.3.s`, instances `1.2.3.s.i`.
    static let large = FakeOrthanc.Study(uid: "1.2.3", patientID: "MRN-1", accessionNumber: "ACC-1", series: 3, instances: 4)

    /// The record of a complete study, as the pipeline reports it.
    static func completeRecord(_ study: FakeOrthanc.Study, id: String, archive: Archive) -> StudyRecord {
        StudyRecord(
            orthancID: id, studyInstanceUID: study.uid, archive: archive, expectedInstances: study.instanceCount,
            presentInstances: study.instanceCount,
            series: study.series.map {
                SeriesRecord(seriesInstanceUID: $0.uid, modality: $0.modality, expectedInstances: $0.instances.count, presentInstances: $0.instances.count)
            }
        )
    }
}
