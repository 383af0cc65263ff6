/// The level of a C-FIND, as Orthanc's `/modalities/{m}/query` names it.
public enum QueryLevel: String, Sendable, Hashable, CaseIterable {
    case study = "Study"
    case series = "Series"
    /// IMAGE in DICOM.
    case instance = "Instance"
}

/// A C-FIND query held by Orthanc and the answers it received.
public struct QueryResult: Sendable, Hashable {
    public var id: String
    public var level: QueryLevel
    public var answers: [QueryAnswer]

    public init(id: String, level: QueryLevel = .study, answers: [QueryAnswer]) {
        self.id = id
        self.level = level
        self.answers = answers
    }
}

/// One C-FIND answer: the keys the pipeline reads, `nil` when the archive did not return them.
public struct QueryAnswer: Sendable, Hashable {
    /// The answer's position in Orthanc's list (`/queries/{id}/answers/{index}`).
    public var index: Int
    public var studyInstanceUID: String?
    public var seriesInstanceUID: String?
    public var sopInstanceUID: String?
    /// PatientID (PHI).
    public var patientID: String?
    /// AccessionNumber (PHI).
    public var accessionNumber: String?
    public var modality: String?
    /// InstanceAvailability (0008,0056); `nil` when the archive did not report it.
    public var instanceAvailability: String?
    /// NumberOfSeriesRelatedInstances (0020,1209); `nil` when the archive did not give a usable count.
    public var numberOfSeriesRelatedInstances: Int?

    public init(
        index: Int = 0,
        studyInstanceUID: String?,
        seriesInstanceUID: String? = nil,
        sopInstanceUID: String? = nil,
        patientID: String? = nil,
        accessionNumber: String? = nil,
        modality: String? = nil,
        instanceAvailability: String? = nil,
        numberOfSeriesRelatedInstances: Int? = nil
    ) {
        self.index = index
        self.studyInstanceUID = studyInstanceUID
        self.seriesInstanceUID = seriesInstanceUID
        self.sopInstanceUID = sopInstanceUID
        self.patientID = patientID
        self.accessionNumber = accessionNumber
        self.modality = modality
        self.instanceAvailability = instanceAvailability
        self.numberOfSeriesRelatedInstances = numberOfSeriesRelatedInstances
    }
}
