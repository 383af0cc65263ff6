/// The JSON keys of a message (SPEC §2), in the order of PIXL's `Message` dataclass.
enum MessageField: String, CaseIterable, Sendable {
    case mrn
    case accessionNumber = "accession_number"
    case studyUID = "study_uid"
    /// Optional; not part of PIXL's wire form at ba6e1741, accepted in both encodings.
    case seriesUID = "series_uid"
    case studyDate = "study_date"
    case procedureOccurrenceID = "procedure_occurrence_id"
    case projectName = "project_name"
    case extractGeneratedTimestamp = "extract_generated_timestamp"
    /// Optional, 1 to 5 (default 1): PIXL's CLI sends it as the AMQP priority, an HTTP message may carry it.
    case priority

    /// Identifier fields where `null` (or `NaN`, an empty CSV cell) means an empty string.
    var nullMeansEmpty: Bool {
        switch self {
        case .mrn, .accessionNumber, .studyUID, .seriesUID: true
        case .studyDate, .procedureOccurrenceID, .projectName, .extractGeneratedTimestamp, .priority: false
        }
    }

    var isRequired: Bool { self != .seriesUID && self != .priority }
}
