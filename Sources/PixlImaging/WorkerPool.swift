public import Foundation
public import Logging
public import PixlCore
public import ServiceLifecycle
import Synchronization

/// Runs jobs from the store through the pipeline: at most `maxInFlight` at once, each after orthanc-raw
/// has no pending job (SPEC §3 step 1) and after taking a token from the rate gate (step 2).
///
/// On graceful shutdown it stops claiming, gives in-flight jobs `drainTimeout` to finish, then cancels
/// the rest and releases them back to the store, unchanged, for the next start.
public final class WorkerPool<Store: JobStore, Client: OrthancClient>: Service {
    public struct Configuration: Sendable {
        public var maxInFlight: Int
        public var retryPolicy: RetryPolicy
        /// How long a claim holds a job before another worker may take it over; renewed while the job runs.
        public var lease: Duration
        /// Longest sleep between looks at the store when nothing signals new work (other replicas, due retries).
        public var idlePoll: Duration
        public var drainTimeout: Duration

        public init(maxInFlight: Int, retryPolicy: RetryPolicy, lease: Duration = .seconds(60), idlePoll: Duration = .seconds(1), drainTimeout: Duration = .seconds(10)) {
            self.maxInFlight = maxInFlight
            self.retryPolicy = retryPolicy
            self.lease = lease
            self.idlePoll = idlePoll
            self.drainTimeout = drainTimeout
        }
    }

    // MARK: Member variables

    let store: Store
    let pipeline: ArchivePipeline<Client>
    let configuration: Configuration
    let takeToken: @Sendable () async throws -> Void
    let metrics: any PipelineMetrics
    /// Told each state the pool records (e.g. so the RabbitMQ intake can acknowledge the job's delivery promptly).
    let onRecorded: @Sendable (UUID, JobState) -> Void
    let logger: Logger
    /// Signalled when work may be waiting: the API calls ``wakeUp()`` after an enqueue.
    let signal = WorkSignal()
    private let running = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)

    // MARK: Initialization

    /// - Parameters:
    ///   - takeToken: waits for a token from the rate gate (SPEC §3 step 2).
    ///   - onRecorded: called after the pool records a job's outcome, with the job's id and new state.
    public init(
        store: Store,
        pipeline: ArchivePipeline<Client>,
        configuration: Configuration,
        takeToken: @escaping @Sendable () async throws -> Void,
        metrics: any PipelineMetrics = NoPipelineMetrics(),
        onRecorded: @escaping @Sendable (UUID, JobState) -> Void = { _, _ in },
        logger: Logger
    ) {
        self.onRecorded = onRecorded
        self.store = store
        self.pipeline = pipeline
        self.configuration = configuration
        self.takeToken = takeToken
        self.metrics = metrics
        self.logger = logger
    }

    // MARK: Methods

    /// Jobs being processed now.
    public var inFlight: Int { running.load(ordering: .relaxed) }

    /// Whether the pool still claims jobs (false once graceful shutdown began).
    public var isAccepting: Bool { !stopping.load(ordering: .relaxed) }

    /// Tells the pool that a job may be due (after an enqueue or a rate change).
    public func wakeUp() { signal.notify() }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await claimLoop()
        } onGracefulShutdown: {
            self.stopping.store(true, ordering: .relaxed)
            self.signal.notify()
        }
    }

    /// Claims until graceful shutdown; job tasks live in a group of their own so they can be drained.
    private func claimLoop() async {
        await withTaskGroup(of: Void.self) { jobs in
            while !stopping.load(ordering: .relaxed) && !Task.isCancelled {
                do {
                    // A wait for a token (rate 0) or for work ends at once on graceful shutdown.
                    guard let job = try await cancelWhenGracefulShutdown({ try await self.nextJob() }) else { continue }
                    metrics.setInFlight(running.add(1, ordering: .relaxed).newValue)
                    jobs.addTask {
                        await self.execute(job)
                        self.metrics.setInFlight(self.running.subtract(1, ordering: .relaxed).newValue)
                        self.signal.notify()
                    }
                } catch is CancellationError {
                    if stopping.load(ordering: .relaxed) { break }
                } catch {
                    logger.error("cannot claim a job from the store: \(error)")
                    await signal.wait(upTo: configuration.idlePoll)
                }
            }
            await drain(jobs: &jobs)
        }
    }

    /// Waits for a free slot, an idle orthanc-raw, a due job and a token, then claims the job.
    private func nextJob() async throws -> Job? {
        if inFlight >= configuration.maxInFlight {
            await signal.wait(upTo: configuration.idlePoll)
            return nil
        }
        let now = Date()
        let due = try await store.nextDueDate()
        guard let due, due <= now else {
            let untilDue = due.map { min(max($0.timeIntervalSince(now), 0.001), configuration.idlePoll.seconds) }
            await signal.wait(upTo: .seconds(untilDue ?? configuration.idlePoll.seconds))
            return nil
        }
        var started = ContinuousClock.now
        try await pipeline.waitWhileOrthancIsBusy(logger: logger)
        metrics.recordStep("back_pressure", duration: ContinuousClock.now - started)
        started = ContinuousClock.now
        try await takeToken()
        metrics.recordStep("rate_gate", duration: ContinuousClock.now - started)
        guard !stopping.load(ordering: .relaxed) else { return nil }
        return try await store.claimNext(now: Date(), lease: configuration.lease)
    }

    /// Processes one claimed job and records what it came to, renewing its lease meanwhile.
    private func execute(_ job: Job) async {
        var jobLogger = self.logger
        jobLogger[metadataKey: LogKey.jobID] = "\(job.id.uuidString.lowercased())"
        let logger = jobLogger
        let outcome = await withTaskGroup(of: PipelineOutcome?.self) { group in
            group.addTask { await self.pipeline.process(job.message, logger: logger) }
            group.addTask {
                while (try? await Task.sleep(for: self.configuration.lease / 3)) != nil {
                    try? await self.store.renewLease(of: job.id, now: Date(), lease: self.configuration.lease)
                }
                return nil
            }
            let outcome = await group.next() ?? nil
            group.cancelAll()
            return outcome ?? .retry(reason: "interrupted")
        }
        do {
            if Task.isCancelled {
                // In a cancelled task the store refuses to write (GRDB throws CancellationError), which left
                // the job in progress until its lease ran out: release it from a task of its own.
                try await Task { try await self.store.release(job.id, now: Date()) }.value
                logger.notice("job released back to the store at shutdown")
                return
            }
            let now = Date()
            let (final, retryAt) = finalised(outcome, attempts: job.attempts, now: now)
            try await store.record(final, retryAt: retryAt, for: job.id, now: now)
            metrics.recordOutcome(final.state)
            onRecorded(job.id, final.state)
            logger.info("job \(final.state.rawValue)", metadata: [LogKey.project: "\(job.message.projectName)"])
        } catch {
            // The lease will expire and another claim will run the job again: nothing is lost.
            logger.error("cannot record the outcome of a job: \(error)")
        }
    }

    /// The one place retry timing is decided: a retry waits for an exponential back-off, and past the
    /// attempt budget ends failed with the last reason and the studies' counts.
    private func finalised(_ outcome: PipelineOutcome, attempts: Int, now: Date) -> (PipelineOutcome, retryAt: Date?) {
        guard case .retry(let reason, let studies) = outcome else { return (outcome, nil) }
        guard configuration.retryPolicy.allowsRetry(afterAttempt: attempts) else {
            return (.failed(error: "gave up after \(attempts) attempts: \(reason)", studies: studies), nil)
        }
        return (outcome, now.addingTimeInterval(configuration.retryPolicy.delay(afterAttempt: attempts).seconds))
    }

    /// Lets in-flight jobs finish for up to `drainTimeout`, then cancels them (they release themselves).
    private func drain(jobs: inout TaskGroup<Void>) async {
        let deadline = ContinuousClock.now + configuration.drainTimeout
        while inFlight > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        jobs.cancelAll()
        await jobs.waitForAll()
    }
}
