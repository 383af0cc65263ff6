/// The Orthanc REST calls the pipeline makes on orthanc-raw (SPEC §3).
///
/// Implementations throw ``OrthancError``; its ``OrthancError/isTransient`` tells the pipeline
/// whether to retry. Every value read from Orthanc is checked and bounded by the implementation: a value
/// that is not what Orthanc documents is an ``OrthancError/Code/badResponse``, never a crash.
public protocol OrthancClient: Sendable {
    /// `GET /jobs?expand`: every job Orthanc still remembers.
    func jobs() async throws -> [OrthancJob]
    /// `GET /jobs/{id}`; `nil` when Orthanc answers 404 (evicted from its history).
    func job(id: String) async throws -> OrthancJob?
    /// `POST /tools/find` at study level with `Expand`: studies in orthanc-raw matching every key.
    func findStudies(matching query: [String: String]) async throws -> [OrthancStudy]
    /// The project tag 000d,1001 shared by every instance of a study; `nil` when an instance lacks it
    /// or the instances disagree (`GET /studies/{id}/shared-tags?short`).
    func projectName(ofStudy id: String) async throws -> String?
    /// The same for one series (`GET /series/{id}/shared-tags?short`).
    func projectName(ofSeries id: String) async throws -> String?

    // MARK: Archives, through orthanc-raw

    /// A C-FIND at `level`: `POST /modalities/{modality}/query` with `Normalize: false`, then every answer
    /// (`GET /queries/{id}/answers?expand&short`). An empty key is a return key.
    func query(_ level: QueryLevel, modality: String, keys: [String: String]) async throws -> QueryResult
    /// A C-MOVE of every answer of a query into `targetAET`, at the query's level
    /// (`POST /queries/{id}/retrieve`, asynchronous); returns the job id.
    func retrieve(queryID: String, targetAET: String) async throws -> String
    /// A C-MOVE of one answer (`POST /queries/{id}/answers/{index}/retrieve`, asynchronous); returns the job id.
    func retrieve(queryID: String, answer index: Int, targetAET: String) async throws -> String

    // MARK: orthanc-raw's copy

    /// The series of a study in orthanc-raw with how many instances each holds (`GET /studies/{id}/series?expand`).
    func localSeries(ofStudy id: String) async throws -> [LocalSeries]
    /// The SOPInstanceUIDs of a series in orthanc-raw (`GET /series/{id}/instances`).
    func localInstanceUIDs(ofSeries id: String) async throws -> [String]

    // MARK: Changing orthanc-raw

    /// `POST /studies/{id}/modify` asynchronously with the body given; returns the job id.
    func modifyStudy(id: String, body: ModifyRequest) async throws -> String
    /// `POST /series/{id}/modify` asynchronously with the body given; returns the job id.
    func modifySeries(id: String, body: ModifyRequest) async throws -> String
    /// `DELETE /studies/{id}`.
    func deleteStudy(id: String) async throws
    /// `POST /modalities/{modality}/store` asynchronously; returns the job id.
    func store(studyIDs: [String], modality: String) async throws -> String
}

/// A job as `GET /jobs/{id}` describes it.
public struct OrthancJob: Sendable, Hashable {
    public enum State: String, Sendable, Hashable {
        case pending = "Pending"
        case running = "Running"
        case success = "Success"
        case failure = "Failure"
        case paused = "Paused"
        case retry = "Retry"
    }

    public var id: String
    public var state: State
    public var errorDescription: String?
    /// `ErrorDetails`: for a failed C-MOVE, the DIMSE status the archive answered, when it answered.
    public var errorDetails: String?

    public init(id: String, state: State, errorDescription: String? = nil, errorDetails: String? = nil) {
        self.id = id
        self.state = state
        self.errorDescription = errorDescription
        self.errorDetails = errorDetails
    }
}

/// A study in orthanc-raw, as `/tools/find` with `Expand` returns it.
public struct OrthancStudy: Sendable, Hashable {
    public var id: String
    public var studyInstanceUID: String
    /// PatientID (PHI), to check that the study is the one asked for.
    public var patientID: String?
    /// AccessionNumber (PHI), likewise.
    public var accessionNumber: String?

    public init(id: String, studyInstanceUID: String, patientID: String? = nil, accessionNumber: String? = nil) {
        self.id = id
        self.studyInstanceUID = studyInstanceUID
        self.patientID = patientID
        self.accessionNumber = accessionNumber
    }
}

/// A series of a study in orthanc-raw.
public struct LocalSeries: Sendable, Hashable {
    /// Orthanc's series id.
    public var id: String
    public var seriesInstanceUID: String
    public var instanceCount: Int

    public init(id: String, seriesInstanceUID: String, instanceCount: Int) {
        self.id = id
        self.seriesInstanceUID = seriesInstanceUID
        self.instanceCount = instanceCount
    }
}

/// The body of `POST /studies/{id}/modify` that tags a study with its project and keeps its identity
/// (SPEC §3 step 7, as measured on Orthanc 1.10.1).
public struct ModifyRequest: Sendable, Hashable {
    public var replace: [(tag: String, value: String)]
    public var privateCreator: String
    public var keep: [String]
    public var force: Bool

    public static func == (lhs: ModifyRequest, rhs: ModifyRequest) -> Bool {
        lhs.replace.elementsEqual(rhs.replace, by: { $0.tag == $1.tag && $0.value == $1.value })
            && lhs.privateCreator == rhs.privateCreator && lhs.keep == rhs.keep && lhs.force == rhs.force
    }

    public func hash(into hasher: inout Hasher) {
        for (tag, value) in replace { hasher.combine(tag); hasher.combine(value) }
        hasher.combine(privateCreator)
        hasher.combine(keep)
        hasher.combine(force)
    }

    /// Sets 000d,1001 to `project` under the private creator "UCLH PIXL", keeping every UID.
    public static func tagProject(_ project: String) -> ModifyRequest {
        ModifyRequest(
            replace: [(ProjectTag.creatorElement, ProjectTag.privateCreator), (ProjectTag.projectElement, project)],
            privateCreator: ProjectTag.privateCreator,
            keep: ["StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"],
            force: true
        )
    }
}

/// The private tag that records which project a study was extracted for.
public enum ProjectTag {
    public static let privateCreator = "UCLH PIXL"
    /// The reservation element of block 0x10 in group 000d.
    public static let creatorElement = "000d,0010"
    /// UCLHPIXLProjectName.
    public static let projectElement = "000d,1001"
    public static let name = "UCLHPIXLProjectName"
}
