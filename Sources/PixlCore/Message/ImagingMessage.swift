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
    /// The sender's trace, from the `traceparent` header of `POST /messages` or of the AMQP message, continued by the
    /// job's span. Not part of ``identity``.
    public var traceContext: TraceContext?

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
        priority: Int = ImagingMessage.defaultPriority,
        traceContext: TraceContext? = nil
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
        self.traceContext = traceContext
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

    /// The SeriesInstanceUIDs of ``seriesUID`` (split at `\`, in order, without repeats); empty for the whole study.
    public var requestedSeriesUIDs: [String] {
        var seen = Set<String>()
        return seriesUID.split(separator: "\\").map(String.init).filter { !$0.isEmpty && seen.insert($0).inserted }
    }

    /// Trims identifiers and checks the rules of SPEC §2 that make a message safe to query with: it names
    /// a study, its project is named, and every identifier reaches the archive exactly as written, so none
    /// can act as a C-FIND wildcard (`*`, `?`, an empty key, or characters that orthanc-raw's query
    /// encoding drops, which leave an empty key).
    /// - Throws: ``MessageDecodingError`` naming the field, never echoing its value.
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
        try Self.checkKeyText(mrn, field: "mrn", maximumLength: Self.maximumMRNLength)
        try Self.checkKeyText(accessionNumber, field: "accession_number", maximumLength: Self.maximumAccessionNumberLength)
        try Self.checkUIDs(studyUID, field: "study_uid", maximumLength: Self.maximumUIDLength, problem: .notAUID)
        try Self.checkUIDs(seriesUID, field: "series_uid", maximumLength: Self.maximumSeriesUIDLength, problem: .notUIDs)
        if studyUID.isEmpty && !hasPatientIdentifiers {
            throw MessageDecodingError(field: studyUIDOrIdentifiersField, problem: .namesNoStudy)
        }
    }

    /// MRN (VR LO) and accession number (VR SH): empty, or printable ASCII without `\`, `*` or `?`.
    private static func checkKeyText(_ value: String, field: String, maximumLength: Int) throws(MessageDecodingError) {
        switch DicomValue.keyTextProblem(value, maximumLength: maximumLength) {
        case nil: return
        case .wildcard: throw MessageDecodingError(field: field, problem: .wildcard)
        case .notPrintableASCII: throw MessageDecodingError(field: field, problem: .notPrintableASCII)
        case .tooLong: throw MessageDecodingError(field: field, problem: .tooLong(maximum: maximumLength))
        }
    }

    /// Empty, or UIDs joined by `\` (a single UID when `problem` is ``MessageDecodingError/Problem/notAUID``).
    private static func checkUIDs(
        _ value: String,
        field: String,
        maximumLength: Int,
        problem: MessageDecodingError.Problem
    ) throws(MessageDecodingError) {
        if value.isEmpty { return }
        if value.unicodeScalars.count > maximumLength {
            throw MessageDecodingError(field: field, problem: .tooLong(maximum: maximumLength))
        }
        if value.contains(where: { $0 == "*" || $0 == "?" }) {
            throw MessageDecodingError(field: field, problem: .wildcard)
        }
        let uids = problem == .notAUID ? [Substring(value)] : value.split(separator: "\\", omittingEmptySubsequences: false)
        if !uids.allSatisfy({ DicomValue.isUID($0) }) {
            throw MessageDecodingError(field: field, problem: problem)
        }
    }

    private var studyUIDOrIdentifiersField: String {
        mrn.isEmpty ? "mrn" : "accession_number"
    }

    /// DICOM LO (PatientID, and the project tag 000d,1001): 64 characters.
    public static let maximumMRNLength = 64
    public static let maximumProjectNameLength = 64
    /// DICOM SH (AccessionNumber): 16 characters. A longer value could not be sent as a C-FIND key unchanged.
    public static let maximumAccessionNumberLength = 16
    /// DICOM UI: 64 characters.
    public static let maximumUIDLength = DicomValue.maximumUIDLength
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
