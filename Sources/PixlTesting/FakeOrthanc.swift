public import PixlCore

/// An in-memory orthanc-raw with its archives, for unit tests of the pipeline: C-FIND answers come
/// from ``archives``, a retrieve copies the study into ``raw``, and every call is recorded.
public actor FakeOrthanc: OrthancClient {
    public struct Study: Sendable, Hashable {
        public var uid: String
        public var patientID: String
        public var accessionNumber: String
        /// InstanceAvailability as the archive reports it; `nil` when it omits the tag.
        public var availability: String?
        /// The project tag, when the copy in raw has one.
        public var project: String?

        public init(uid: String, patientID: String, accessionNumber: String, availability: String? = "ONLINE", project: String? = nil) {
            self.uid = uid
            self.patientID = patientID
            self.accessionNumber = accessionNumber
            self.availability = availability
            self.project = project
        }
    }

    // MARK: Member variables

    /// Studies in orthanc-raw by Orthanc id.
    public var raw: [String: Study] = [:]
    /// Studies in each modality's archive.
    public var archives: [String: [Study]] = [:]
    /// Every call, as `METHOD path`, in order.
    public private(set) var calls: [String] = []
    /// When set, every call throws this, but for the calls in ``failureSpares``.
    public var failure: OrthancError?
    /// Calls (as `METHOD path`) that still answer while ``failure`` is set.
    public var failureSpares: Set<String> = []
    /// Jobs reported by `GET /jobs`, to test back-pressure.
    public var otherJobs: [OrthancJob] = []
    /// What retrieve and modify jobs end in.
    public var retrieveJobState: OrthancJob.State = .success
    public var modifyJobState: OrthancJob.State = .success
    /// Answer 404 for jobs, as when Orthanc evicted them from its history.
    public var evictJobs = false

    private var jobsByID: [String: OrthancJob] = [:]
    private var queries: [String: [Study]] = [:]
    private var counter = 0

    public init() {}

    // MARK: Test set-up

    public func setArchive(_ modality: String, _ studies: [Study]) { archives[modality] = studies }
    public func setRaw(_ id: String, _ study: Study) { raw[id] = study }
    public func setFailure(_ error: OrthancError?, sparing calls: Set<String> = []) {
        failure = error
        failureSpares = calls
    }
    public func setJobStates(retrieve: OrthancJob.State = .success, modify: OrthancJob.State = .success) {
        retrieveJobState = retrieve
        modifyJobState = modify
    }
    public func setEvictJobs(_ evict: Bool) { evictJobs = evict }
    public func setOtherJobs(_ jobs: [OrthancJob]) { otherJobs = jobs }

    public func calls(matching prefix: String) -> [String] { calls.filter { $0.hasPrefix(prefix) } }

    // MARK: OrthancClient

    public func jobs() async throws -> [OrthancJob] {
        try record("GET /jobs")
        return otherJobs + jobsByID.values
    }

    public func job(id: String) async throws -> OrthancJob? {
        try record("GET /jobs/\(id)")
        return evictJobs ? nil : jobsByID[id]
    }

    public func findStudies(matching query: [String: String]) async throws -> [OrthancStudy] {
        try record("POST /tools/find")
        return raw.filter { Self.matches($0.value, query) }.sorted { $0.key < $1.key }.map { OrthancStudy(id: $0.key, studyInstanceUID: $0.value.uid) }
    }

    public func projectName(ofStudy id: String) async throws -> String? {
        try record("GET /studies/\(id)/shared-tags")
        return raw[id]?.project
    }

    public func queryStudies(modality: String, query: [String: String]) async throws -> QueryResult {
        try record("POST /modalities/\(modality)/query")
        let found = (archives[modality] ?? []).filter { Self.matches($0, query) }
        let id = nextID("query")
        queries[id] = found
        return QueryResult(id: id, answers: found.map { QueryAnswer(studyInstanceUID: $0.uid, instanceAvailability: $0.availability) })
    }

    public func retrieve(queryID: String, targetAET: String) async throws -> String {
        try record("POST /queries/\(queryID)/retrieve")
        let id = nextID("job")
        jobsByID[id] = OrthancJob(id: id, state: retrieveJobState, errorDescription: retrieveJobState == .failure ? "C-MOVE failed" : nil)
        if retrieveJobState == .success {
            for study in queries[queryID] ?? [] {
                var copy = study
                copy.project = nil
                raw["raw-\(study.uid)"] = copy
            }
        }
        return id
    }

    public func modifyStudy(id: String, body: ModifyRequest) async throws -> String {
        try record("POST /studies/\(id)/modify")
        let job = nextID("job")
        jobsByID[job] = OrthancJob(id: job, state: modifyJobState, errorDescription: modifyJobState == .failure ? "modify failed" : nil)
        if modifyJobState == .success, let project = body.replace.first(where: { $0.tag == ProjectTag.projectElement })?.value {
            raw[id]?.project = project
        }
        return job
    }

    public func deleteStudy(id: String) async throws {
        try record("DELETE /studies/\(id)")
        raw[id] = nil
    }

    public func store(studyIDs: [String], modality: String) async throws -> String {
        try record("POST /modalities/\(modality)/store")
        let job = nextID("job")
        jobsByID[job] = OrthancJob(id: job, state: .success)
        return job
    }

    // MARK: Helpers

    private func record(_ call: String) throws {
        calls.append(call)
        if let failure, !failureSpares.contains(call) { throw failure }
    }

    private func nextID(_ kind: String) -> String {
        counter += 1
        return "\(kind)-\(counter)"
    }

    /// Exact matching on the keys Orthanc would compare; empty values are return keys.
    private static func matches(_ study: Study, _ query: [String: String]) -> Bool {
        for (key, value) in query where !value.isEmpty {
            switch key {
            case "StudyInstanceUID": if study.uid != value { return false }
            case "PatientID": if study.patientID != value { return false }
            case "AccessionNumber": if study.accessionNumber != value { return false }
            default: continue
            }
        }
        return true
    }
}
