public import Foundation
public import Logging
public import PixlCore

/// Processes one message (SPEC §3, steps 3 to 8): find the study locally or in an archive, have
/// orthanc-raw pull it, tag it with the project, and optionally route it to anon.
///
/// Step 1 (back-pressure) is ``waitWhileOrthancIsBusy(logger:)``, called by whoever schedules messages
/// before the rate gate; step 2 (the token bucket) belongs to the worker pool.
public struct ArchivePipeline<Client: OrthancClient>: Sendable {
    public struct Configuration: Sendable {
        public var rawAETitle: String
        public var primary: PixlConfiguration.DicomSource
        public var secondary: PixlConfiguration.DicomSource?
        public var secondaryWindow: SecondaryQueryWindow
        public var requireOnline: Bool
        public var transferTimeout: Duration
        public var autorouteToAnon: Bool
        public var anonModality: String
        public var retryPolicy: RetryPolicy
        public var logIdentifiers: Bool

        public init(_ configuration: PixlConfiguration) {
            rawAETitle = configuration.orthancRaw.aeTitle
            primary = configuration.primary
            secondary = configuration.secondary
            secondaryWindow = configuration.secondaryWindow
            requireOnline = configuration.requireOnline
            transferTimeout = configuration.transferTimeout
            autorouteToAnon = configuration.autorouteToAnon
            anonModality = configuration.anonModality
            retryPolicy = RetryPolicy(maxAttempts: configuration.maxAttempts)
            logIdentifiers = configuration.logIdentifiers
        }
    }

    // MARK: Member variables

    let orthanc: Client
    let configuration: Configuration
    /// The wall clock that decides the secondary query window; injectable for tests.
    let now: @Sendable () -> Date
    let jobFollower: JobFollower<Client>
    let metrics: any PipelineMetrics

    // MARK: Initialization

    public init(
        orthanc: Client,
        configuration: Configuration,
        metrics: any PipelineMetrics = NoPipelineMetrics(),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.orthanc = orthanc
        self.configuration = configuration
        self.metrics = metrics
        self.now = now
        self.jobFollower = JobFollower(orthanc: orthanc, timeout: configuration.transferTimeout)
    }

    // MARK: Methods

    /// SPEC §3 step 1: returns once orthanc-raw has no job in state `Pending`, polling with a back-off
    /// from 50 ms, ×1.5 a poll, to 1 s (a longer cap overshoots: Orthanc's queue drains in well under a
    /// second). Cancellable. A transient error is treated as "busy" and waited out.
    public func waitWhileOrthancIsBusy(logger: Logger) async throws {
        var delay = Duration.milliseconds(50)
        var loggedWait = false
        while true {
            do {
                if try await !orthanc.jobs().contains(where: { $0.state == .pending }) { return }
                if !loggedWait {
                    logger.info("orthanc-raw has pending jobs: waiting before starting", metadata: [LogKey.step: "back-pressure"])
                    loggedWait = true
                }
            } catch let error as OrthancError where error.isTransient {
                logger.warning("orthanc-raw unreachable while checking its jobs: \(error)", metadata: [LogKey.step: "back-pressure"])
            }
            try await Task.sleep(for: delay)
            delay = min(delay * 1.5, .seconds(1))
        }
    }

    /// Runs steps 3 to 8 for one message. Never throws: every fault becomes an outcome.
    /// - Parameters:
    ///   - attempt: which attempt this is (1 for the first), to size the back-off of a retry.
    public func process(_ message: ImagingMessage, attempt: Int = 1, logger: Logger) async -> PipelineOutcome {
        var logger = logger
        for (key, value) in message.logMetadata(includeIdentifiers: configuration.logIdentifiers) {
            logger[metadataKey: key] = value
        }
        do {
            let outcome = try await run(message, logger: logger)
            return outcome
        } catch let error as OrthancError where error.isTransient {
            logger.warning("transient Orthanc fault, will retry: \(error)")
            logger.debug("transient Orthanc fault detail: \(error.debugDescription)")
            return .retry(reason: "\(error)")
        } catch let error as OrthancError {
            logger.error("Orthanc refused a call: \(error)")
            logger.debug("Orthanc refusal detail: \(error.debugDescription)")
            return .failed(error: "\(error)")
        } catch is CancellationError {
            return .retry(reason: "processing was interrupted")
        } catch {
            logger.error("unexpected error: \(String(describing: type(of: error)))")
            return .failed(error: "unexpected \(String(describing: type(of: error)))")
        }
    }

    private func run(_ message: ImagingMessage, logger: Logger) async throws -> PipelineOutcome {
        // Step 3: already local?
        let local = try await timed("find_local") { try await orthanc.findStudies(matching: Self.localKeys(message)) }
        if !local.isEmpty {
            logger.info("study already in orthanc-raw", metadata: [LogKey.archive: "local", LogKey.step: "find-local"])
            return try await finish(studies: local, archive: .local, message: message, logger: logger)
        }

        // Step 4: primary archive.
        if let found = try await timed("query_primary", { try await query(configuration.primary, for: message, logger: logger) }) {
            return try await retrieve(found, archive: .primary, message: message, logger: logger)
        }

        // Step 5: secondary archive.
        guard let secondary = configuration.secondary, secondary.aeTitle != configuration.primary.aeTitle else {
            logger.info("not found in primary archive and no secondary archive", metadata: [LogKey.step: "query-primary"])
            return .discarded(reason: "not found in primary archive and no secondary archive")
        }
        let current = now()
        guard configuration.secondaryWindow.isOpen(at: current) else {
            guard let opening = configuration.secondaryWindow.nextOpening(after: current) else {
                return .discarded(reason: "not found in primary archive and secondary queries are disabled")
            }
            logger.info("not found in primary archive; secondary archive closed until its window opens", metadata: [LogKey.step: "query-secondary"])
            return .deferred(until: opening, reason: "not found in primary archive; secondary archive is queried only in its window")
        }
        guard let found = try await timed("query_secondary", { try await query(secondary, for: message, logger: logger) }) else {
            logger.info("not found in primary or secondary archive", metadata: [LogKey.step: "query-secondary"])
            return .discarded(reason: "not found in primary or secondary archive", archive: nil)
        }
        if let refusal = availabilityRefusal(found.answers) {
            logger.info("secondary study not retrievable: \(refusal)", metadata: [LogKey.archive: "secondary"])
            return .discarded(reason: refusal, archive: .secondary)
        }
        return try await retrieve(found, archive: .secondary, message: message, logger: logger)
    }

    /// The reason not to pull a secondary study, or `nil` when every answer is ONLINE (or unreported and allowed).
    private func availabilityRefusal(_ answers: [QueryAnswer]) -> String? {
        for answer in answers {
            let availability = answer.instanceAvailability?.trimmingCharacters(in: .whitespaces).uppercased() ?? ""
            switch availability {
            case "ONLINE": continue
            case "": if configuration.requireOnline { return "availability not reported by secondary archive" }
            default: return "study is \(availability) in secondary archive, not ONLINE"
            }
        }
        return nil
    }

    // MARK: Steps

    /// Steps 4 and 5's query: by UID, then by MRN + accession number. `nil` when nothing answers.
    private func query(_ source: PixlConfiguration.DicomSource, for message: ImagingMessage, logger: Logger) async throws -> QueryResult? {
        if !message.studyUID.isEmpty {
            let result = try await orthanc.queryStudies(
                modality: source.modality,
                query: ["StudyInstanceUID": message.studyUID, "InstanceAvailability": ""]
            )
            if !result.answers.isEmpty { return result }
        }
        guard message.hasPatientIdentifiers else { return nil }
        let result = try await orthanc.queryStudies(
            modality: source.modality,
            query: [
                "PatientID": message.mrn, "AccessionNumber": message.accessionNumber,
                "StudyInstanceUID": "", "InstanceAvailability": "",
            ]
        )
        if !result.answers.isEmpty {
            logger.debug("found by MRN and accession number", metadata: [LogKey.step: "query"])
        }
        return result.answers.isEmpty ? nil : result
    }

    /// Step 6: C-MOVE into orthanc-raw, then tag what arrived.
    private func retrieve(_ found: QueryResult, archive: Archive, message: ImagingMessage, logger: Logger) async throws -> PipelineOutcome {
        var logger = logger
        logger[metadataKey: LogKey.archive] = "\(archive.rawValue)"
        let jobID = try await orthanc.retrieve(queryID: found.id, targetAET: configuration.rawAETitle)
        logger.info("retrieving study into orthanc-raw", metadata: [LogKey.step: "retrieve", LogKey.orthancJob: "\(jobID)"])
        let uids = found.answers.compactMap(\.studyInstanceUID).filter { !$0.isEmpty }
        switch try await timed("retrieve", { try await jobFollower.follow(jobID) }) {
        case .succeeded:
            break
        case .failed(let description):
            logger.warning("retrieve job failed: \(description)", metadata: [LogKey.step: "retrieve"])
            return .discarded(reason: "retrieve failed: \(description)", archive: archive)
        case .timedOut:
            return .retry(reason: "retrieve job did not finish within the transfer timeout")
        case .evicted:
            logger.notice("retrieve job evicted from Orthanc's history: looking for the study", metadata: [LogKey.step: "retrieve"])
        }
        var arrived: [OrthancStudy] = []
        for uid in uids {
            arrived += try await orthanc.findStudies(matching: ["StudyInstanceUID": uid])
        }
        guard !arrived.isEmpty else {
            return .retry(reason: "retrieve reported no failure but the study is not in orthanc-raw")
        }
        return try await finish(studies: arrived, archive: archive, message: message, logger: logger)
    }

    /// Steps 7 and 8 for studies now in orthanc-raw.
    private func finish(studies: [OrthancStudy], archive: Archive, message: ImagingMessage, logger: Logger) async throws -> PipelineOutcome {
        for study in studies where try await orthanc.projectName(ofStudy: study.id) != message.projectName {
            if let refusal = try await tag(study, project: message.projectName, logger: logger) {
                return .discarded(reason: refusal, archive: archive)
            }
        }
        let ids = studies.map(\.id)
        if configuration.autorouteToAnon {
            let jobID = try await orthanc.store(studyIDs: ids, modality: configuration.anonModality)
            logger.info("sending study to anon", metadata: [LogKey.step: "route-anon", LogKey.orthancJob: "\(jobID)"])
            switch try await timed("route_to_anon", { try await jobFollower.follow(jobID) }) {
            case .succeeded, .evicted: break
            case .failed(let description): return .discarded(reason: "sending to anon failed: \(description)", archive: archive)
            case .timedOut: return .retry(reason: "sending to anon did not finish within the transfer timeout")
            }
        }
        logger.info("study in orthanc-raw, tagged with its project", metadata: [LogKey.archive: "\(archive.rawValue)"])
        return .succeeded(archive: archive, studies: ids)
    }

    /// Step 7 for one study. Returns a discard reason when Orthanc's job failed (the study is then deleted).
    private func tag(_ study: OrthancStudy, project: String, logger: Logger) async throws -> String? {
        let jobID = try await orthanc.modifyStudy(id: study.id, body: .tagProject(project))
        logger.info("tagging study with its project", metadata: [LogKey.step: "tag", LogKey.orthancJob: "\(jobID)"])
        switch try await timed("tag", { try await jobFollower.follow(jobID) }) {
        case .succeeded, .evicted:
            return nil
        case .timedOut:
            throw OrthancError(code: .timeout, request: "modify job \(jobID)", detail: "did not finish within the transfer timeout")
        case .failed(let description):
            logger.warning("tagging failed, deleting the study: \(description)", metadata: [LogKey.step: "tag"])
            try await orthanc.deleteStudy(id: study.id)
            return "tagging the study failed: \(description)"
        }
    }

    /// Runs one step and records how long it took.
    private func timed<Result>(_ step: String, _ body: () async throws -> Result) async throws -> Result {
        let started = ContinuousClock.now
        defer { metrics.recordStep(step, duration: ContinuousClock.now - started) }
        return try await body()
    }

    /// Step 3's keys: never an empty value, which `/tools/find` would treat as "any".
    static func localKeys(_ message: ImagingMessage) -> [String: String] {
        var keys: [String: String] = [:]
        if message.hasPatientIdentifiers {
            keys["PatientID"] = message.mrn
            keys["AccessionNumber"] = message.accessionNumber
        }
        if !message.studyUID.isEmpty { keys["StudyInstanceUID"] = message.studyUID }
        return keys
    }
}
