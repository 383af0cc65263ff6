/// One study to extract: what the PIXL CLI sends, one message per study (SPEC §2).
///
/// Identifiers are trimmed on construction through ``validated()``. `mrn` and `accessionNumber`
/// are patient identifiers: log them only through ``Logger/Metadata`` helpers that respect
/// `PIXL_LOG_IDENTIFIERS`.
public struct ImagingMessage: Sendable, Hashable {
    // MARK: Member variables

    /// Medical record number (PHI). Empty when the message names the study by UID only.
    public var mrn: String
    /// Accession number (PHI). Empty when the message names the study by UID only.
    public var accessionNumber: String
    /// StudyInstanceUID; empty when unknown.
    public var studyUID: String
    /// One or several SeriesInstanceUIDs joined by `\`; empty means the whole study.
    public var seriesUID: String
    public var studyDate: CalendarDate
    public var procedureOccurrenceID: Int64
    public var projectName: String
    public var extractGeneratedTimestamp: ExtractTimestamp
    /// How soon the job is claimed, 1 (default) to 5 (first): PIXL's `populate --priority`, sent as the AMQP
    /// priority. Not part of ``identity``: the same study asked twice is one job.
    public var priority: Int

    /// The priorities a message may have.
    public static let priorities: ClosedRange<Int64> = 1...5
    public static let defaultPriority = 1

    // MARK: Initialization

    public init(
        mrn: String,
        accessionNumber: String,
        studyUID: String,
        seriesUID: String = "",
        studyDate: CalendarDate,
        procedureOccurrenceID: Int64,
        projectName: String,
        extractGeneratedTimestamp: ExtractTimestamp,
        priority: Int = ImagingMessage.defaultPriority
    ) {
        self.mrn = mrn
        self.accessionNumber = accessionNumber
        self.studyUID = studyUID
        self.seriesUID = seriesUID
        self.studyDate = studyDate
        self.procedureOccurrenceID = procedureOccurrenceID
        self.projectName = projectName
        self.extractGeneratedTimestamp = extractGeneratedTimestamp
        self.priority = priority
    }

    // MARK: Methods

    /// The fields that make two messages ask for the same work: an unfinished job with the same
    /// identity is returned instead of a new one (SPEC §4).
    public var identity: Identity {
        Identity(projectName: projectName, mrn: mrn, accessionNumber: accessionNumber, studyUID: studyUID, seriesUID: seriesUID)
    }

    public struct Identity: Sendable, Hashable {
        public var projectName: String
        public var mrn: String
        public var accessionNumber: String
        public var studyUID: String
        public var seriesUID: String
    }

    /// Whether the message carries both identifiers needed for an MRN + accession number query.
    public var hasPatientIdentifiers: Bool { !mrn.isEmpty && !accessionNumber.isEmpty }

    /// Trims identifiers and checks the rules of SPEC §2 that make a message safe to query with:
    /// it names a study, its project is named, and no identifier would act as a C-FIND wildcard.
    /// - Throws: ``MessageDecodingError`` naming the field.
    public func validated() throws(MessageDecodingError) -> ImagingMessage {
        var message = self
        message.mrn = mrn.trimmingWhitespace()
        message.accessionNumber = accessionNumber.trimmingWhitespace()
        message.studyUID = studyUID.trimmingWhitespace()
        message.seriesUID = seriesUID.trimmingWhitespace()
        message.projectName = projectName.trimmingWhitespace()
        try message.checkRules()
        return message
    }

    private func checkRules() throws(MessageDecodingError) {
        if projectName.isEmpty {
            throw MessageDecodingError(field: "project_name", problem: .empty)
        }
        if projectName.unicodeScalars.count > Self.maximumProjectNameLength {
            throw MessageDecodingError(field: "project_name", problem: .tooLong(maximum: Self.maximumProjectNameLength))
        }
        for (field, value, limit) in [
            ("mrn", mrn, Self.maximumMRNLength),
            ("accession_number", accessionNumber, Self.maximumAccessionNumberLength),
            ("study_uid", studyUID, Self.maximumUIDLength),
            ("series_uid", seriesUID, Self.maximumSeriesUIDLength),
        ] {
            if value.unicodeScalars.count > limit {
                throw MessageDecodingError(field: field, problem: .tooLong(maximum: limit))
            }
            if value.contains(where: { $0 == "*" || $0 == "?" }) {
                throw MessageDecodingError(field: field, problem: .wildcard)
            }
            if value.contains(where: { $0 == "\\" }) && field != "series_uid" {
                throw MessageDecodingError(field: field, problem: .wildcard)
            }
        }
        if studyUID.isEmpty && !hasPatientIdentifiers {
            throw MessageDecodingError(field: studyUIDOrIdentifiersField, problem: .namesNoStudy)
        }
    }

    private var studyUIDOrIdentifiersField: String {
        mrn.isEmpty ? "mrn" : "accession_number"
    }

    /// DICOM LO (PatientID, and the project tag 000d,1001): 64 characters.
    public static let maximumMRNLength = 64
    public static let maximumProjectNameLength = 64
    /// AccessionNumber is SH in DICOM (16 characters); some archives hold longer ones, so allow LO's 64.
    public static let maximumAccessionNumberLength = 64
    /// DICOM UI: 64 characters.
    public static let maximumUIDLength = 64
    /// Several UIDs joined by `\`.
    public static let maximumSeriesUIDLength = 64 * 1024
}

extension String {
    /// Trims spaces, tabs and line breaks at both ends (identifiers and settings reach us padded).
    public func trimmingWhitespace() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
