public import Foundation
public import Logging
public import PixlCore
import Tracing

/// Processes one message (SPEC §3, steps 3 to 8): find every study it means, locally or in an archive,
/// have orthanc-raw pull what it lacks, check that each copy is complete, tag it with the project, and
/// optionally route it to anon.
///
/// The steps live in extensions by concern: ``localStudies(for:)`` and ``search(for:logger:)`` (which
/// studies, `StudyQuery.swift`), the archive's inventory and the comparison with raw's copy
/// (`CompletenessCheck.swift`), the C-MOVEs (`Retrieval.swift`), and tagging (`Tagging.swift`).
///
/// Step 1 (back-pressure) is ``waitWhileOrthancIsBusy(logger:)``, called by whoever schedules messages
/// before the rate gate; step 2 (the token bucket) and all retry timing belong to the worker pool.
public struct ArchivePipeline<Client: OrthancClient>: Sendable {
    public struct Configuration: Sendable {
        public var rawAETitle: String
        public var primary: PixlConfiguration.DicomSource
        public var secondary: PixlConfiguration.DicomSource?
        /// When the secondary archive may be queried: its lane's window and closed days.
        public var secondaryTimetable: LaneTimetable
        public var requireOnline: Bool
        public var transferTimeout: Duration
        public var autorouteToAnon: Bool
        public var anonModality: String
        /// A message matching more studies than this ends failed, pulling nothing.
        public var maxStudiesPerMessage: Int
        public var logIdentifiers: Bool

        public init(_ configuration: PixlConfiguration) {
            rawAETitle = configuration.orthancRaw.aeTitle
            primary = configuration.primary
            secondary = configuration.secondary
            secondaryTimetable = configuration.secondaryLane.timetable
            requireOnline = configuration.requireOnline
            transferTimeout = configuration.transferTimeout
            autorouteToAnon = configuration.autorouteToAnon
            anonModality = configuration.anonModality
            maxStudiesPerMessage = configuration.maxStudiesPerMessage
            logIdentifiers = configuration.logIdentifiers
        }

        /// The primary archive, as the pipeline queries it.
        var primarySource: ArchiveSource { ArchiveSource(archive: .primary, modality: primary.modality) }

        /// The secondary archive, unless none is configured or it has the primary's AE title.
        var secondarySource: ArchiveSource? {
            guard let secondary, secondary.aeTitle != primary.aeTitle else { return nil }
            return ArchiveSource(archive: .secondary, modality: secondary.modality)
        }
    }

    // MARK: Member variables

    let orthanc: Client
    let configuration: Configuration
    /// The wall clock that decides the secondary archive's timetable; injectable for tests.
    let now: @Sendable () -> Date
    /// What back-pressure and the job follower wait on; a `MockClock` in tests.
    let clock: any Clock<Duration>
    let jobFollower: JobFollower<Client>
    let metrics: any PipelineMetrics
    /// Hears how each archive answers its C-FINDs and C-MOVEs (the lanes' breakers and adaptive rates).
    let observer: any ArchiveObserver

    // MARK: Initialization

    public init(
        orthanc: Client,
        configuration: Configuration,
        metrics: any PipelineMetrics = NoPipelineMetrics(),
        observer: any ArchiveObserver = NoArchiveObserver(),
        clock: any Clock<Duration> = ContinuousClock(),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.orthanc = orthanc
        self.configuration = configuration
        self.metrics = metrics
        self.observer = observer
        self.clock = clock
        self.now = now
        self.jobFollower = JobFollower(orthanc: orthanc, timeout: configuration.transferTimeout, clock: clock)
    }

    // MARK: Methods

    /// Runs steps 3 to 8 for one message, querying the archives `reach` allows. Never throws: every fault becomes an
    /// outcome.
    ///
    /// The message is checked again (``ImagingMessage/validated()``) before any call to Orthanc, so a
    /// message that skipped the intake's checks still cannot send an unsafe key.
    public func process(_ message: ImagingMessage, reach: ArchiveReach = .both, logger: Logger) async -> PipelineOutcome {
        var logger = logger
        for (key, value) in message.logMetadata(includeIdentifiers: configuration.logIdentifiers) {
            logger[metadataKey: key] = value
        }
        let checked: ImagingMessage
        do {
            checked = try message.validated()
        } catch {
            logger.error("message refused before any query: \(error)")
            return .failed(error: "invalid message: \(error)")
        }
        do {
            return try await run(checked, reach: reach, logger: logger)
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

    /// Which studies the message means (step 3, else steps 4 and 5), then each made complete and tagged.
    private func run(_ message: ImagingMessage, reach: ArchiveReach, logger: Logger) async throws -> PipelineOutcome {
        let local = try await timed("find_local") { try await localStudies(for: message) }
        if let refusal = tooManyStudies(local.count, logger: logger) { return refusal }
        let targets: [StudyTarget]
        if !message.studyUID.isEmpty, local.contains(where: { $0.studyInstanceUID == message.studyUID }) {
            logger.info("study already in orthanc-raw", metadata: [LogKey.archive: "local", LogKey.step: "find-local"])
            targets = local.map(StudyTarget.init(local:))
        } else {
            switch try await search(for: message, reach: reach, logger: logger) {
            case .found(let found):
                let all = try await self.targets(for: found, local: local)
                if let refusal = tooManyStudies(all.count, logger: logger) { return refusal }
                targets = all
            case .none(let outcome):
                // Studies found locally by MRN + accession number are still checked against an archive.
                guard !local.isEmpty, outcome.state != .deferred, outcome.state != .queued else { return outcome }
                targets = local.map(StudyTarget.init(local:))
            }
        }
        return try await finish(targets, message: message, reach: reach, logger: logger)
    }

    /// A message matching more studies than allowed fails before anything is pulled (SPEC §2).
    private func tooManyStudies(_ count: Int, logger: Logger) -> PipelineOutcome? {
        guard count > configuration.maxStudiesPerMessage else { return nil }
        logger.error("query matched \(count) studies, more than PIXL_MAX_STUDIES_PER_MESSAGE: nothing pulled")
        return .failed(
            error: "query matched \(count) studies, more than PIXL_MAX_STUDIES_PER_MESSAGE (\(configuration.maxStudiesPerMessage)): nothing pulled"
        )
    }

    /// Makes every study complete (pulling or topping up what raw lacks), tags the complete ones, and
    /// sums up: success only when every study the message means is complete.
    private func finish(_ targets: [StudyTarget], message: ImagingMessage, reach: ArchiveReach, logger: Logger) async throws -> PipelineOutcome {
        var targets = targets
        let requested = message.requestedSeriesUIDs
        var summary = CompletenessSummary(requestedSeries: requested)
        for index in targets.indices {
            var studyLogger = logger
            studyLogger[metadataKey: LogKey.studyUID] = "\(targets[index].uid)"
            switch try await timed("completeness", { try await makeComplete(&targets[index], requested: requested, reach: reach, logger: studyLogger) }) {
            case .stop(let outcome):
                return outcome
            case .checked(let check):
                summary.add(check)
                if check.isComplete, let rawID = check.record.orthancID,
                    let stop = try await tagIfNeeded(rawID, project: message.projectName, pulledWhole: check.pulledWhole, logger: studyLogger)
                {
                    if case .discarded(let reason, _) = stop { return .discarded(reason: reason, archive: check.record.archive) }
                    return stop
                }
            }
        }
        if let outcome = summary.unfinishedOutcome { return outcome }
        let records = summary.records
        if configuration.autorouteToAnon, let refusal = try await routeToAnon(records.compactMap(\.orthancID), logger: logger) {
            return refusal
        }
        let archive = summary.movedFrom ?? .local
        logger.info("every study in orthanc-raw, complete and tagged with its project", metadata: [LogKey.archive: "\(archive.rawValue)"])
        return .succeeded(archive: archive, studies: records, note: summary.note)
    }

    /// Runs one step in a span of its own, named by the step and carrying it as `pixl.step` (a child of the job's, whose
    /// Orthanc calls are its children), and records how long it took. A step that throws marks its span failed.
    func timed<Result>(_ step: String, _ body: () async throws -> Result) async throws -> Result {
        try await withSpan(step) { span in
            span.attributes[LogKey.step] = step
            let started = ContinuousClock.now
            defer { metrics.recordStep(step, duration: ContinuousClock.now - started) }
            return try await body()
        }
    }
}
