import Foundation
public import Logging
public import PixlCore
public import ServiceLifecycle
import Synchronization

/// Runs jobs from the store through the pipeline: at most `maxInFlight` at once, each after orthanc-raw
/// has no pending job (SPEC §3 step 1) and after taking a token from the rate gate (step 2).
///
/// It hears of new work through ``JobEvents`` (`enqueued`) and publishes what its workers do (`started`,
/// `recorded`, `released`, `lost`, `draining`). It alone decides when a retried job runs again (``RetryPolicy``).
/// On graceful shutdown it stops claiming, gives in-flight jobs `drainTimeout` to finish, then cancels
/// the rest and releases them back to the store, unchanged, for the next start.
public final class WorkerPool<Store: JobStore, Client: OrthancClient, C: Clock<Duration>>: Service {
    public struct Configuration: Sendable {
        public var maxInFlight: Int
        public var retryPolicy: RetryPolicy
        /// How long a claim holds a job before another worker may take it over; renewed while the job runs.
        public var lease: Duration
        /// Longest sleep between looks at the store when nothing signals new work (other replicas, due retries).
        public var idlePoll: Duration
        public var drainTimeout: Duration

        public init(
            maxInFlight: Int,
            retryPolicy: RetryPolicy,
            lease: Duration = .seconds(60),
            idlePoll: Duration = .seconds(1),
            drainTimeout: Duration = .seconds(10)
        ) {
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
    let rateGate: TokenBucket<C>
    let events: JobEvents
    let clock: C
    let logger: Logger
    /// Signalled when work may be waiting or a slot freed.
    private let signal = WorkSignal()
    private let running = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)

    // MARK: Initialization

    /// - Parameters:
    ///   - rateGate: the token bucket each job takes a token from (SPEC §3 step 2).
    ///   - events: where new work is heard of and the workers' events are published.
    ///   - clock: what the pool sleeps on (idle waits, lease renewals, the drain); tests inject a manual one.
    public init(
        store: Store,
        pipeline: ArchivePipeline<Client>,
        configuration: Configuration,
        rateGate: TokenBucket<C>,
        events: JobEvents,
        clock: C,
        logger: Logger
    ) {
        self.store = store
        self.pipeline = pipeline
        self.configuration = configuration
        self.rateGate = rateGate
        self.events = events
        self.clock = clock
        self.logger = logger
        events.subscribe { [signal] event in
            if case .enqueued(let newJobs) = event, newJobs > 0 { signal.notify() }
        }
    }

    // MARK: Methods

    /// Jobs being processed now.
    var inFlight: Int { running.load(ordering: .relaxed) }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await claimLoop()
        } onGracefulShutdown: {
            self.stopping.store(true, ordering: .relaxed)
            self.events.publish(.draining)
            self.signal.notify()
        }
    }

    /// Claims until graceful shutdown; job tasks live in a group of their own so they can be drained.
    private func claimLoop() async {
        await withTaskGroup(of: Void.self) { jobs in
            while !stopping.load(ordering: .relaxed) && !Task.isCancelled {
                do {
                    // A wait for a token (rate 0) or for work ends at once on graceful shutdown.
                    guard let claim = try await cancelWhenGracefulShutdown({ try await self.nextClaim() }) else { continue }
                    running.add(1, ordering: .relaxed)
                    events.publish(.started(claim.job))
                    jobs.addTask {
                        await self.execute(claim)
                        self.running.subtract(1, ordering: .relaxed)
                        self.signal.notify()
                    }
                } catch is CancellationError {
                    if stopping.load(ordering: .relaxed) { break }
                } catch {
                    logger.error("cannot claim a job from the store: \(error)")
                    await signal.wait(upTo: configuration.idlePoll, on: clock)
                }
            }
            await drain(jobs: &jobs)
        }
    }

    /// Waits for a free slot, an idle orthanc-raw, a due job and a token, then claims the job.
    private func nextClaim() async throws -> Claim? {
        if inFlight >= configuration.maxInFlight {
            await signal.wait(upTo: configuration.idlePoll, on: clock)
            return nil
        }
        let now = Date()
        let due = try await store.nextDueDate()
        guard let due, due <= now else {
            let untilDue = due.map { Duration.seconds(max($0.timeIntervalSince(now), 0.001)) } ?? configuration.idlePoll
            await signal.wait(upTo: min(untilDue, configuration.idlePoll), on: clock)
            return nil
        }
        try await timed("back_pressure") { try await pipeline.waitWhileOrthancIsBusy(logger: logger) }
        try await timed("rate_gate") { try await rateGate.take() }
        guard !stopping.load(ordering: .relaxed) else { return nil }
        return try await store.claimNext(now: Date(), lease: configuration.lease)
    }

    /// Processes one claimed job and records what it came to, renewing its lease meanwhile. A worker that loses its
    /// claim (its lease ran out, another worker took the job over) stops working on the job and writes nothing.
    private func execute(_ claim: Claim) async {
        let job = claim.job
        var logger = self.logger
        logger[metadataKey: LogKey.jobID] = "\(job.id.uuidString.lowercased())"
        let jobLogger = logger
        let outcome = await withTaskGroup(of: PipelineOutcome?.self) { group in
            group.addTask { await self.pipeline.process(job.message, logger: jobLogger) }
            group.addTask {
                await self.holdLease(claim, logger: jobLogger)
                return nil
            }
            let outcome = await group.next() ?? nil
            group.cancelAll()
            return outcome
        }
        do {
            if Task.isCancelled {
                // In a cancelled task the store refuses to write (GRDB throws CancellationError), which left
                // the job in progress until its lease ran out: release it from a task of its own.
                try await Task { try await self.store.release(claim, now: Date()) }.value
                events.publish(.released(job))
                logger.notice("job released back to the store at shutdown")
                return
            }
            guard let outcome else { throw JobStoreError(.leaseLost, jobID: job.id) }
            let now = Date()
            let result = configuration.retryPolicy.result(for: outcome, afterAttempt: job.attempts, now: now)
            let recorded = try await store.record(result, for: claim, now: now)
            events.publish(.recorded(recorded))
            logger.info("job \(result.state.rawValue)", metadata: [LogKey.project: "\(job.message.projectName)"])
        } catch let error as JobStoreError where error.code == .leaseLost {
            events.publish(.lost(job))
            logger.warning("lost the claim on the job (its lease ran out and another worker may hold it): nothing written")
        } catch {
            // The lease will run out and another claim will run the job again: nothing is lost.
            events.publish(.lost(job))
            logger.error("cannot record the outcome of a job: \(error)")
        }
    }

    /// Renews the claim's lease every third of it, until cancelled, or until the claim is lost: the store says another
    /// claim holds the job, or renewals kept failing until the lease ran out (another worker may have it by now).
    private func holdLease(_ claim: Claim, logger: Logger) async {
        var heldUntil = clock.now.advanced(by: configuration.lease)
        while (try? await clock.sleep(for: configuration.lease / 3)) != nil {
            do {
                let renewedAt = clock.now
                try await store.renewLease(of: claim, now: Date(), lease: configuration.lease)
                heldUntil = renewedAt.advanced(by: configuration.lease)
            } catch let error as JobStoreError where error.code == .leaseLost {
                return
            } catch {
                logger.warning("cannot renew the lease of a job: \(error)")
                if clock.now >= heldUntil { return }
            }
        }
    }

    /// Lets in-flight jobs finish for up to `drainTimeout`, then cancels them (they release themselves).
    private func drain(jobs: inout TaskGroup<Void>) async {
        let deadline = clock.now.advanced(by: configuration.drainTimeout)
        while inFlight > 0, clock.now < deadline {
            await signal.wait(upTo: clock.now.duration(to: deadline), on: clock)
        }
        jobs.cancelAll()
        await jobs.waitForAll()
    }

    /// Runs one step of the claim and records how long it took.
    private func timed<Result>(_ step: String, _ body: () async throws -> Result) async throws -> Result {
        let started = ContinuousClock.now
        defer { pipeline.metrics.recordStep(step, duration: ContinuousClock.now - started) }
        return try await body()
    }
}
