public import PixlCore

/// ``FakeOrthanc`` as an ``OrthancClient``.
extension FakeOrthanc {
    public func jobs() async throws -> [OrthancJob] {
        try record("GET /jobs")
        return otherJobs + jobsByIDSnapshot
    }

    public func job(id: String) async throws -> OrthancJob? {
        try record("GET /jobs/\(id)")
        if restartsWhenFollowed.contains(id) { restart() }
        return evictJobs ? nil : storedJob(id)
    }

    public func findStudies(matching query: [String: String]) async throws -> [OrthancStudy] {
        try record("POST /tools/find")
        return raw.filter { Self.matches($0.value, query) }.sorted { $0.key < $1.key }.map {
            OrthancStudy(id: $0.key, studyInstanceUID: $0.value.uid, patientID: $0.value.patientID, accessionNumber: $0.value.accessionNumber)
        }
    }

    public func projectName(ofStudy id: String) async throws -> String? {
        try record("GET /studies/\(id)/shared-tags")
        return raw[id]?.project
    }

    public func projectName(ofSeries id: String) async throws -> String? {
        try record("GET /series/\(id)/shared-tags")
        guard let (study, index) = rawSeries(id) else { return nil }
        return raw[study]?.series[index].project
    }

    public func query(_ level: QueryLevel, modality: String, keys: [String: String]) async throws -> QueryResult {
        try record("POST /modalities/\(modality)/query")
        recordFind(Find(modality: modality, level: level, keys: keys))
        if unreachable.contains(modality) {
            // As Orthanc 1.10.1 answers a C-FIND to an archive that is down.
            throw OrthancError(code: .serverError, status: 500, request: "POST /modalities/\(modality)/query", detail: "DicomAssociation")
        }
        let behaviour = behaviours[modality] ?? Behaviour()
        if level == .instance, behaviour.requiresSeriesForInstanceQueries, keys["SeriesInstanceUID", default: ""].isEmpty {
            throw OrthancError(code: .serverError, status: 500, request: "POST /modalities/\(modality)/query", detail: "C-FIND refused")
        }
        let studies = (archives[modality] ?? []).filter { behaviour.ignoresKeys || Self.matches($0, keys) }
        var found: [FakeResource] = []
        for study in studies {
            switch level {
            case .study:
                found.append(FakeResource(study: study))
            case .series:
                for series in study.series where behaviour.listsSeries && (behaviour.ignoresKeys || Self.matchesList(series.uid, keys["SeriesInstanceUID"])) {
                    found.append(FakeResource(study: study, series: series))
                }
            case .instance:
                for series in study.series where Self.matchesList(series.uid, keys["SeriesInstanceUID"]) {
                    for sop in series.instances where Self.matchesList(sop, keys["SOPInstanceUID"]) {
                        found.append(FakeResource(study: study, series: series, instance: sop))
                    }
                }
            }
        }
        let id = storeQuery(modality: modality, level: level, answers: found)
        let answers = found.enumerated().map { index, resource in
            QueryAnswer(
                index: index, studyInstanceUID: resource.study.uid, seriesInstanceUID: resource.series?.uid, sopInstanceUID: resource.instance,
                patientID: resource.study.patientID, accessionNumber: resource.study.accessionNumber, modality: resource.series?.modality,
                instanceAvailability: level == .study ? resource.study.availability : nil,
                numberOfSeriesRelatedInstances: level == .series && behaviour.reportsCounts ? resource.series?.instances.count : nil
            )
        }
        return QueryResult(id: id, level: level, answers: answers)
    }

    public func retrieve(queryID: String, targetAET: String) async throws -> String {
        try record("POST /queries/\(queryID)/retrieve")
        try requireQuery(queryID, request: "POST /queries/\(queryID)/retrieve")
        return move(queryID: queryID, indexes: nil)
    }

    public func retrieve(queryID: String, answer index: Int, targetAET: String) async throws -> String {
        try record("POST /queries/\(queryID)/answers/\(index)/retrieve")
        try requireQuery(queryID, request: "POST /queries/\(queryID)/answers/\(index)/retrieve")
        return move(queryID: queryID, indexes: [index])
    }

    public func localSeries(ofStudy id: String) async throws -> [LocalSeries] {
        try record("GET /studies/\(id)/series")
        return (raw[id]?.series ?? []).map { LocalSeries(id: "\(id)|\($0.uid)", seriesInstanceUID: $0.uid, instanceCount: $0.instances.count) }
    }

    public func localInstanceUIDs(ofSeries id: String) async throws -> [String] {
        try record("GET /series/\(id)/instances")
        guard let (study, index) = rawSeries(id) else { return [] }
        return raw[study]?.series[index].instances ?? []
    }

    public func modifyStudy(id: String, body: ModifyRequest) async throws -> String {
        let (job, project) = try startModify("POST /studies/\(id)/modify", body: body)
        if let project { raw[id]?.project = project }
        return job
    }

    public func modifySeries(id: String, body: ModifyRequest) async throws -> String {
        let (job, project) = try startModify("POST /series/\(id)/modify", body: body)
        if let project, let (study, index) = rawSeries(id) { raw[study]?.series[index].project = project }
        return job
    }

    /// Records a `/modify` request and adds its job (in ``modifyJobState``), restarting raw when
    /// ``restartsDuringModifies``; the project tag the files then take, `nil` when they are not rewritten.
    private func startModify(_ request: String, body: ModifyRequest) throws -> (job: String, project: String?) {
        try record(request)
        let state = modifyJobState
        let job = addJob(state: state, errorDescription: state == .failure ? "modify failed" : nil)
        if restartsDuringModifies {
            restart()
            return (job, nil)
        }
        guard state == .success else { return (job, nil) }
        return (job, body.replace.first { $0.tag == ProjectTag.projectElement }?.value)
    }

    /// raw's study id and the index of the series of a fake series id (`<study id>|<SeriesInstanceUID>`).
    private func rawSeries(_ id: String) -> (String, Int)? {
        let parts = id.split(separator: "|").map(String.init)
        guard parts.count == 2, let index = raw[parts[0]]?.series.firstIndex(where: { $0.uid == parts[1] }) else { return nil }
        return (parts[0], index)
    }

    public func deleteStudy(id: String) async throws {
        try record("DELETE /studies/\(id)")
        raw[id] = nil
    }

    public func store(studyIDs: [String], modality: String) async throws -> String {
        try record("POST /modalities/\(modality)/store")
        return addJob(state: .success)
    }

    // MARK: Matching

    /// Exact matching on the study keys Orthanc would compare; empty values are return keys.
    static func matches(_ study: Study, _ query: [String: String]) -> Bool {
        for (key, value) in query where !value.isEmpty {
            switch key {
            case "StudyInstanceUID": if !matchesList(study.uid, value) { return false }
            case "PatientID": if study.patientID != value { return false }
            case "AccessionNumber": if study.accessionNumber != value { return false }
            default: continue
            }
        }
        return true
    }

    /// UID list matching: empty or absent matches all, else one of the `\`-separated UIDs.
    static func matchesList(_ uid: String, _ key: String?) -> Bool {
        guard let key, !key.isEmpty else { return true }
        return key.split(separator: "\\").contains { $0 == uid }
    }
}

/// What one fake answer names: a study, a series of it, or an instance of that.
struct FakeResource: Sendable {
    var study: FakeOrthanc.Study
    var series: FakeOrthanc.Series?
    var instance: String?
}
