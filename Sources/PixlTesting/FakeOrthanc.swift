public import PixlCore

/// An in-memory orthanc-raw with its archives, for unit tests of the pipeline.
///
/// Archives hold studies with series and instances; C-FINDs at study, series and instance level answer
/// from them (exact matching, empty keys are return keys, `\` lists UIDs); a retrieve copies what the
/// answers name into ``raw``, at the query's level. Every call, C-FIND and C-MOVE is recorded, so tests
/// can assert what left orthanc-raw (``finds``, ``moves``) and what did not.
public actor FakeOrthanc: OrthancClient {
    public struct Series: Sendable, Hashable {
        public var uid: String
        public var modality: String
        /// SOPInstanceUIDs.
        public var instances: [String]
        /// The project tag, when raw's copy has it on every instance of the series.
        public var project: String?

        public init(uid: String, modality: String = "OT", instances: [String], project: String? = nil) {
            self.uid = uid
            self.modality = modality
            self.instances = instances
            self.project = project
        }
    }

    public struct Study: Sendable, Hashable {
        public var uid: String
        public var patientID: String
        public var accessionNumber: String
        /// InstanceAvailability as the archive reports it; `nil` when it omits the tag.
        public var availability: String?
        public var series: [Series]

        /// The project tag shared by every series of raw's copy (`nil` when one lacks it); setting it tags
        /// every series.
        public var project: String? {
            get {
                guard let first = series.first?.project, series.allSatisfy({ $0.project == first }) else { return nil }
                return first
            }
            set {
                for index in series.indices { series[index].project = newValue }
            }
        }

        /// A study of `series` series of `instances` instances each: series `uid.s`, instances `uid.s.i`.
        public init(
            uid: String,
            patientID: String,
            accessionNumber: String,
            availability: String? = "ONLINE",
            project: String? = nil,
            series: Int = 1,
            instances: Int = 1
        ) {
            let contents = (1...max(series, 1)).map { s in
                Series(uid: "\(uid).\(s)", instances: (1...max(instances, 1)).map { "\(uid).\(s).\($0)" })
            }
            self.init(uid: uid, patientID: patientID, accessionNumber: accessionNumber, availability: availability, project: project, contents: contents)
        }

        /// A study holding exactly `contents`.
        public init(
            uid: String,
            patientID: String,
            accessionNumber: String,
            availability: String? = "ONLINE",
            project: String? = nil,
            contents: [Series]
        ) {
            self.uid = uid
            self.patientID = patientID
            self.accessionNumber = accessionNumber
            self.availability = availability
            self.series = contents
            if let project { self.project = project }
        }

        public var instanceCount: Int { series.reduce(0) { $0 + $1.instances.count } }
    }

    /// How an archive answers.
    public struct Behaviour: Sendable, Hashable {
        /// Whether SERIES-level answers carry NumberOfSeriesRelatedInstances (dcmqrscp's do not).
        public var reportsCounts = true
        /// Answers every study it holds, whatever the keys (an archive receiving an emptied key).
        public var ignoresKeys = false
        /// Refuses IMAGE-level C-FINDs without a SeriesInstanceUID, as some VNAs do.
        public var requiresSeriesForInstanceQueries = true
        /// Answers SERIES-level C-FINDs; an archive of study-level query/retrieve only answers none.
        public var listsSeries = true

        public init(reportsCounts: Bool = true, ignoresKeys: Bool = false, requiresSeriesForInstanceQueries: Bool = true, listsSeries: Bool = true) {
            self.reportsCounts = reportsCounts
            self.ignoresKeys = ignoresKeys
            self.requiresSeriesForInstanceQueries = requiresSeriesForInstanceQueries
            self.listsSeries = listsSeries
        }
    }

    /// A C-FIND that left orthanc-raw.
    public struct Find: Sendable, Hashable {
        public var modality: String
        public var level: QueryLevel
        public var keys: [String: String]
    }

    /// A C-MOVE job orthanc-raw ran: its level, what it named, and how many instances arrived.
    public struct Move: Sendable, Hashable {
        public var modality: String
        public var level: QueryLevel
        /// The UIDs at that level (study, series or SOP instance UIDs).
        public var uids: [String]
        public var arrivedInstances: Int
    }

    // MARK: Member variables

    /// Studies in orthanc-raw by Orthanc id (`raw-<uid>` for those a retrieve brought).
    public var raw: [String: Study] = [:]
    /// Studies in each modality's archive.
    public var archives: [String: [Study]] = [:]
    public var behaviours: [String: Behaviour] = [:]
    /// Every call, as `METHOD path`, in order.
    public private(set) var calls: [String] = []
    public private(set) var finds: [Find] = []
    public private(set) var moves: [Move] = []
    /// When set, every call throws this, but for the calls in ``failureSpares``.
    public var failure: OrthancError?
    /// Calls (as `METHOD path`) that still answer while ``failure`` is set.
    public var failureSpares: Set<String> = []
    /// Archives (modality names) that are down: their C-FINDs fail as Orthanc answers them, HTTP 500.
    public var unreachable: Set<String> = []
    /// Jobs reported by `GET /jobs`, to test back-pressure.
    public var otherJobs: [OrthancJob] = []
    /// What retrieve and modify jobs end in, and the `ErrorDetails` of a failed retrieve.
    public var retrieveJobState: OrthancJob.State = .success
    public var retrieveFailureDetails: String? = "C-MOVE SCU to AET \"VNAQR\" has failed with DIMSE status 0xC000 (unable to process)"
    public var modifyJobState: OrthancJob.State = .success
    /// Answer 404 for jobs, as when Orthanc evicted them from its history.
    public var evictJobs = false
    /// SOPInstanceUIDs a C-MOVE never delivers (a transfer that breaks half way).
    public var undeliverable: Set<String> = []
    /// orthanc-raw restarts while each C-MOVE runs, after it started and before its job is first looked at (so
    /// whatever the pipeline does meanwhile, a C-FIND included, happens before): what arrived stays, its queries
    /// and jobs are forgotten (404).
    public var restartsDuringMoves = false
    /// orthanc-raw restarts while each modify job runs: the files keep their tags, queries and jobs are forgotten.
    public var restartsDuringModifies = false

    var jobsByID: [String: OrthancJob] = [:]
    /// Move jobs whose first look restarts raw (``restartsDuringMoves``).
    var restartsWhenFollowed: Set<String> = []
    var queries: [String: (modality: String, level: QueryLevel, answers: [FakeResource])] = [:]
    var counter = 0

    public init() {}

    // MARK: Test set-up

    public func setArchive(_ modality: String, _ studies: [Study], behaviour: Behaviour = Behaviour()) {
        archives[modality] = studies
        behaviours[modality] = behaviour
    }
    public func setRaw(_ id: String, _ study: Study) { raw[id] = study }
    public func setFailure(_ error: OrthancError?, sparing calls: Set<String> = []) {
        failure = error
        failureSpares = calls
    }
    public func setJobStates(retrieve: OrthancJob.State = .success, modify: OrthancJob.State = .success, retrieveDetails: String? = nil) {
        retrieveJobState = retrieve
        modifyJobState = modify
        if let retrieveDetails { retrieveFailureDetails = retrieveDetails }
    }
    public func setEvictJobs(_ evict: Bool) { evictJobs = evict }
    public func setUnreachable(_ modality: String, _ down: Bool) {
        if down { unreachable.insert(modality) } else { unreachable.remove(modality) }
    }
    public func setOtherJobs(_ jobs: [OrthancJob]) { otherJobs = jobs }
    public func setUndeliverable(_ instances: Set<String>) { undeliverable = instances }
    public func setRestarts(duringMoves moves: Bool = false, duringModifies modifies: Bool = false) {
        restartsDuringMoves = moves
        restartsDuringModifies = modifies
    }
    /// Adds or replaces a job, to script what `GET /jobs/{id}` answers.
    public func setJob(_ job: OrthancJob) { jobsByID[job.id] = job }

    /// Removes instances from raw's copy (`keep` per series UID; a series kept with none disappears).
    public func removeFromRaw(_ id: String, keeping keep: [String: Int]) {
        guard var study = raw[id] else { return }
        study.series = study.series.compactMap { series in
            guard let count = keep[series.uid] else { return series }
            var kept = series
            kept.instances = Array(series.instances.prefix(count))
            return kept.instances.isEmpty ? nil : kept
        }
        raw[id] = study
    }

    public func calls(matching prefix: String) -> [String] { calls.filter { $0.hasPrefix(prefix) } }

    /// Instances raw holds of the study with this UID.
    public func rawInstanceCount(studyUID: String) -> Int {
        raw.values.filter { $0.uid == studyUID }.reduce(0) { $0 + $1.instanceCount }
    }
}

// MARK: Bookkeeping

extension FakeOrthanc {
    func record(_ call: String) throws {
        calls.append(call)
        if let failure, !failureSpares.contains(call) { throw failure }
    }

    func recordFind(_ find: Find) { finds.append(find) }

    var jobsByIDSnapshot: [OrthancJob] { Array(jobsByID.values) }
    func storedJob(_ id: String) -> OrthancJob? { jobsByID[id] }

    func nextID(_ kind: String) -> String {
        counter += 1
        return "\(kind)-\(counter)"
    }

    func addJob(state: OrthancJob.State, errorDescription: String? = nil, errorDetails: String? = nil) -> String {
        let id = nextID("job")
        jobsByID[id] = OrthancJob(id: id, state: state, errorDescription: errorDescription, errorDetails: errorDetails)
        return id
    }

    /// What orthanc-raw forgets when it restarts (`SaveJobs: false`): its queries and its jobs.
    func restart() {
        queries.removeAll()
        jobsByID.removeAll()
        restartsWhenFollowed.removeAll()
    }

    /// A query raw does not hold (any more) answers 404, as Orthanc does.
    func requireQuery(_ id: String, request: String) throws {
        guard queries[id] == nil else { return }
        throw OrthancError(code: .clientError, status: 404, request: request, detail: "Unknown resource")
    }

    func storeQuery(modality: String, level: QueryLevel, answers: [FakeResource]) -> String {
        let id = nextID("query")
        queries[id] = (modality, level, answers)
        return id
    }

    /// A C-MOVE of some answers (all when `indexes` is nil) at the query's level, recorded in ``moves``.
    func move(queryID: String, indexes: [Int]?) -> String {
        let state = retrieveJobState
        let job = addJob(
            state: state, errorDescription: state == .failure ? "C-MOVE failed" : nil, errorDetails: state == .failure ? retrieveFailureDetails : nil
        )
        guard state == .success, let query = queries[queryID] else { return job }
        let chosen = indexes.map { $0.filter(query.answers.indices.contains).map { query.answers[$0] } } ?? query.answers
        var arrived = 0
        for resource in chosen {
            for series in resource.series.map({ [$0] }) ?? resource.study.series {
                for sop in resource.instance.map({ [$0] }) ?? series.instances where !undeliverable.contains(sop) {
                    arrived += deliver(sop, of: series, in: resource.study)
                }
            }
        }
        let uids = chosen.map { $0.instance ?? $0.series?.uid ?? $0.study.uid }
        moves.append(Move(modality: query.modality, level: query.level, uids: uids, arrivedInstances: arrived))
        if restartsDuringMoves { restartsWhenFollowed.insert(job) }
        return job
    }

    /// Stores one instance in raw (overwriting an existing one, as `OverwriteInstances: true` does), which
    /// leaves its series without a shared project tag. Returns 1 for a new instance, 0 for an overwrite.
    private func deliver(_ sop: String, of series: Series, in study: Study) -> Int {
        let id = raw.first { $0.value.uid == study.uid }?.key ?? "raw-\(study.uid)"
        var copy = raw[id] ?? Study(uid: study.uid, patientID: study.patientID, accessionNumber: study.accessionNumber, contents: [])
        defer { raw[id] = copy }
        guard let index = copy.series.firstIndex(where: { $0.uid == series.uid }) else {
            copy.series.append(Series(uid: series.uid, modality: series.modality, instances: [sop]))
            return 1
        }
        copy.series[index].project = nil
        if copy.series[index].instances.contains(sop) { return 0 }
        copy.series[index].instances.append(sop)
        return 1
    }
}
