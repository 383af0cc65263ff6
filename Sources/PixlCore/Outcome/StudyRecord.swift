/// What a job holds of one study (SPEC §3, Completeness): where it is in orthanc-raw, which archive it
/// was checked against, and how many instances the archive lists and raw holds, in total and per series.
///
/// Counts cover only the series the message asked for (all of the study's when `series_uid` is empty).
/// `expectedInstances` is `nil` when no archive could say (a local study no reachable archive lists).
public struct StudyRecord: Sendable, Hashable, Codable {
    /// The study's id in orthanc-raw; `nil` while nothing of it has arrived.
    public var orthancID: String?
    public var studyInstanceUID: String
    /// The archive whose inventory the copy was compared with; ``Archive/local`` when none lists the study.
    public var archive: Archive
    /// Instances the archive lists (in the series that count); `nil` when unknown.
    public var expectedInstances: Int?
    /// Instances of those in orthanc-raw.
    public var presentInstances: Int
    public var series: [SeriesRecord]

    public init(
        orthancID: String?,
        studyInstanceUID: String,
        archive: Archive,
        expectedInstances: Int? = nil,
        presentInstances: Int = 0,
        series: [SeriesRecord] = []
    ) {
        self.orthancID = orthancID
        self.studyInstanceUID = studyInstanceUID
        self.archive = archive
        self.expectedInstances = expectedInstances
        self.presentInstances = presentInstances
        self.series = series
    }

    /// Stored as JSON (the job stores' `study_records`) under these names.
    enum CodingKeys: String, CodingKey {
        case orthancID = "orthanc_id"
        case studyInstanceUID = "study_uid"
        case archive
        case expectedInstances = "expected_instances"
        case presentInstances = "present_instances"
        case series
    }

    /// Whether raw holds every instance the archive lists (never true when the count is unknown).
    public var isComplete: Bool {
        guard let expectedInstances else { return false }
        return presentInstances >= expectedInstances
    }

    /// "N of M instances", or "N instances" when the archive's count is unknown. Free of identifiers.
    public var countDescription: String {
        if let expectedInstances { "\(presentInstances) of \(expectedInstances) instances" } else { "\(presentInstances) instances" }
    }
}

/// One series of a ``StudyRecord``.
public struct SeriesRecord: Sendable, Hashable, Codable {
    public var seriesInstanceUID: String
    /// Modality (0008,0060) as the archive reports it, when it does.
    public var modality: String?
    public var expectedInstances: Int?
    public var presentInstances: Int

    enum CodingKeys: String, CodingKey {
        case seriesInstanceUID = "series_uid"
        case modality
        case expectedInstances = "expected_instances"
        case presentInstances = "present_instances"
    }

    public init(seriesInstanceUID: String, modality: String? = nil, expectedInstances: Int?, presentInstances: Int) {
        self.seriesInstanceUID = seriesInstanceUID
        self.modality = modality
        self.expectedInstances = expectedInstances
        self.presentInstances = presentInstances
    }
}
