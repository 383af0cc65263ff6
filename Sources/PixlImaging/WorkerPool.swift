import Foundation
public import Logging
public import PixlCore
public import ServiceLifecycle
import Synchronization
import Tracing

/// Runs jobs from the store through the pipeline, one claim loop per lane (issue 13): each lane claims its own jobs,
/// at most its `maxInFlight` at once, while its timetable is open and its circuit breaker lets it, each job after
/// orthanc-raw has no pending job (SPEC §3 step 1) and after taking a token from the lane's bucket (step 2). Within a
/// priority, a lane's claims go round its projects (``FairShare``). The lanes never wait for each other: one closed,
/// paused or broken leaves the other at its full rate.
///
/// It hears of new work through ``JobEvents`` (`enqueued`) and publishes what its workers do (`started`,
/// `recorded`, `released`, `lost`, `draining`). It alone decides when a retried job runs again (``RetryPolicy``), and
/// where a job the primary archive has not found goes: into the secondary lane, or deferred to its next opening.
/// Each job runs in a span of its own (``execute(_:in:logger:)``), continuing the trace its message came with.
/// On graceful shutdown it stops claiming, gives in-flight jobs `drainTimeout` to finish, then cancels
/// the rest and releases them back to the store, unchanged, for the next start.
public final class WorkerPool<Store: JobStore, Client: OrthancClient, C: Clock<Duration>>: Service {
    public struct Configuration: Sendable {
        public var retryPolicy: RetryPolicy
        /// How long a claim holds a job before another worker may take it over; renewed while the job runs.
        public var lease: Duration
        /// Longest sleep between looks at the store when nothing signals new work (other replicas, due retries).
        public var idlePoll: Duration
        public var drainTimeout: Duration

        public init(
            retryPolicy: RetryPolicy,
            lease: Duration = .seconds(60),
            idlePoll: Duration = .seconds(1),
            drainTimeout: Duration = .seconds(10)
        ) {
            self.retryPolicy = retryPolicy
            self.lease = lease
            self.idlePoll = idlePoll
            self.drainTimeout = drainTimeout
        }
    }

    /// A claimed job and the lane it runs in.
    private struct LaneClaim {
        var claim: Claim
        /// Whether it is the lane's circuit breaker's probe.
        var isProbe: Bool
        /// The steps the claim waited in, for the job's span.
        var steps: [ClaimStep]
    }

    /// What became of a claimed job.
    private enum Ending {
        case recorded(Job)
        /// Put back to the store unchanged, at shutdown.
        case released
        /// Nothing could be written: the claim was lost, or the store failed.
        case lost(String)
    }

    // MARK: Member variables

    let store: Store
    let pipeline: ArchivePipeline<Client>
    let configuration: Configuration
    let lanes: Lanes<C>
    let events: JobEvents
    let clock: C
    let logger: Logger
    /// Signalled when work may be waiting, a slot freed or a lane's settings changed.
    private let signals: LaneSignals
    private let stopping = Atomic<Bool>(false)

    // MARK: Initialization

    /// - Parameters:
    ///   - lanes: the lanes the pool claims through, with their buckets (SPEC §3 step 2), timetables and breakers.
    ///   - events: where new work is heard of and the workers' events are published.
    ///   - signals: what wakes the claim loops; the lanes notify it when they may claim sooner (pass the same one).
    ///   - clock: what the pool sleeps on (idle waits, lease renewals, the drain); tests inject a manual one.
    public init(
        store: Store,
        pipeline: ArchivePipeline<Client>,
        configuration: Configuration,
        lanes: Lanes<C>,
        events: JobEvents,
        signals: LaneSignals = LaneSignals(),
        clock: C,
        logger: Logger
    ) {
        self.store = store
        self.pipeline = pipeline
        self.configuration = configuration
        self.lanes = lanes
        self.events = events
        self.signals = signals
        self.clock = clock
        self.logger = logger
        events.subscribe { [signals] event in
            if case .enqueued(let newJobs) = event, newJobs > 0 { signals.notify() }
        }
    }

    // MARK: Methods

    /// Jobs being processed now, in every lane.
    var inFlight: Int { lanes.all.reduce(0) { $0 + $1.inFlight } }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { loops in
                for lane in lanes.all { loops.addTask { await self.claimLoop(lane) } }
            }
        } onGracefulShutdown: {
            self.stopping.store(true, ordering: .relaxed)
            self.events.publish(.draining)
            self.signals.notify()
        }
    }

    /// Claims a lane's jobs until graceful shutdown; job tasks live in a group of their own so they can be drained.
    private func claimLoop(_ lane: ArchiveLane<C>) async {
        var laneLogger = self.logger
        laneLogger[metadataKey: LogKey.lane] = "\(lane.lane.rawValue)"
        let logger = laneLogger
        await withTaskGroup(of: Void.self) { jobs in
            while !stopping.load(ordering: .relaxed) && !Task.isCancelled {
                do {
                    // A wait for a token (rate 0) or for work ends at once on graceful shutdown.
                    guard let next = try await cancelWhenGracefulShutdown({ try await self.nextClaim(lane, logger: logger) }) else { continue }
                    events.publish(.started(next.claim.job))
                    jobs.addTask {
                        await self.execute(next, in: lane.lane, logger: logger)
                        lane.finished(wasProbe: next.isProbe)
                        self.signals.notify()
                    }
                } catch is CancellationError {
                    if stopping.load(ordering: .relaxed) { break }
                } catch {
                    logger.error("cannot claim a job from the store: \(error)")
                    await signals[lane.lane].wait(upTo: configuration.idlePoll, on: clock)
                }
            }
            await drain(jobs: &jobs, of: lane)
        }
    }

    /// Waits for a free slot, an open and unpaused lane, a closed breaker (or its probe), a due job, an idle
    /// orthanc-raw and a token, then claims the job, the turn of its project.
    private func nextClaim(_ lane: ArchiveLane<C>, logger: Logger) async throws -> LaneClaim? {
        let signal = signals[lane.lane]
        guard lane.hasFreeSlot, !lane.isPaused else {
            await signal.wait(upTo: configuration.idlePoll, on: clock)
            return nil
        }
        let now = Date()
        switch lane.settings.timetable.entry(at: now) {
        case .open:
            break
        case .closedUntil(let opening):
            await signal.wait(upTo: min(Duration.seconds(max(opening.timeIntervalSince(now), 0.001)), configuration.idlePoll), on: clock)
            return nil
        case .neverOpen:
            await signal.wait(upTo: configuration.idlePoll, on: clock)
            return nil
        }
        let isProbe: Bool
        switch lane.breakerPermission() {
        case .claim:
            isProbe = false
        case .probe:
            isProbe = true
        case .wait(let until):
            let untilHalfOpen = until.map { clock.now.duration(to: $0) } ?? configuration.idlePoll
            await signal.wait(upTo: max(min(untilHalfOpen, configuration.idlePoll), .milliseconds(1)), on: clock)
            return nil
        }
        do {
            let claim = try await claim(in: lane, logger: logger)
            if claim == nil, isProbe { lane.probeUnused() }
            return claim.map { LaneClaim(claim: $0.claim, isProbe: isProbe, steps: $0.steps) }
        } catch {
            if isProbe { lane.probeUnused() }
            throw error
        }
    }

    /// The claim itself, once the lane may claim: a due job, back-pressure, a token, the fair share's order; with the
    /// steps it waited in.
    private func claim(in lane: ArchiveLane<C>, logger: Logger) async throws -> (claim: Claim, steps: [ClaimStep])? {
        let signal = signals[lane.lane]
        let now = Date()
        let due = try await store.nextDueDate(in: lane.lane)
        guard let due, due <= now else {
            let untilDue = due.map { Duration.seconds(max($0.timeIntervalSince(now), 0.001)) } ?? configuration.idlePoll
            await signal.wait(upTo: min(untilDue, configuration.idlePoll), on: clock)
            return nil
        }
        var steps: [ClaimStep] = []
        try await timed("back_pressure", into: &steps) { try await pipeline.waitWhileOrthancIsBusy(logger: logger) }
        try await timed("rate_gate", into: &steps) { try await lane.bucket.take() }
        guard !stopping.load(ordering: .relaxed) else { return nil }
        let order = lane.projectOrder(among: try await store.counts().unfinishedProjects[lane.lane] ?? [])
        guard let claim = try await store.claimNext(in: lane.lane, projectOrder: order, now: Date(), lease: configuration.lease) else {
            return nil
        }
        lane.claimed(claim.job, from: order)
        return (claim, steps)
    }

    /// Processes one claimed job in a span of its own (`job`): a child of the trace its message came with, or the root of
    /// a new one, beginning with the claim's steps (back-pressure, the rate gate), then the pipeline's. It carries the
    /// job's id, project, lane, attempt, and the state and archive recorded; it fails (status error) when the job is
    /// recorded failed, discarded or due for a retry, or when nothing could be recorded. Never the message's identifiers.
    private func execute(_ next: LaneClaim, in lane: Lane, logger: Logger) async {
        let job = next.claim.job
        let parent = job.message.traceContext?.parentContext ?? .topLevel
        await withSpan("job", at: next.steps.first?.start ?? DefaultTracerClock.now, context: parent, ofKind: .consumer) { span in
            span.attributes[LogKey.jobID] = job.id.uuidString.lowercased()
            span.attributes[LogKey.project] = job.message.projectName
            span.attributes[LogKey.lane] = lane.rawValue
            span.attributes[LogKey.attempt] = job.attempts
            for step in next.steps { step.record(under: span.context) }
            switch await process(next.claim, in: lane, logger: logger) {
            case .recorded(let recorded):
                span.attributes[LogKey.state] = recorded.state.rawValue
                if let archive = recorded.archive { span.attributes[LogKey.archive] = archive.rawValue }
                if recorded.state.failsItsSpan { span.setStatus(SpanStatus(code: .error, message: recorded.reason)) }
            case .released:
                span.attributes[LogKey.state] = JobState.queued.rawValue
            case .lost(let reason):
                span.setStatus(SpanStatus(code: .error, message: reason))
            }
        }
    }

    /// Processes one claimed job and records what it came to, renewing its lease meanwhile. A worker that loses its
    /// claim (its lease ran out, another worker took the job over) stops working on the job and writes nothing.
    private func process(_ claim: Claim, in lane: Lane, logger: Logger) async -> Ending {
        let job = claim.job
        var logger = logger
        logger[metadataKey: LogKey.jobID] = "\(job.id.uuidString.lowercased())"
        let jobLogger = logger
        let outcome = await withTaskGroup(of: PipelineOutcome?.self) { group in
            group.addTask { await self.pipeline.process(job.message, reach: .lane(lane), logger: jobLogger) }
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
                return .released
            }
            guard let outcome else { throw JobStoreError(.leaseLost, jobID: job.id) }
            let now = Date()
            let result = self.result(for: outcome, afterAttempt: job.attempts, now: now)
            let recorded = try await store.record(result, for: claim, now: now)
            events.publish(.recorded(recorded))
            logger.info("job \(result.state.rawValue)", metadata: [LogKey.project: "\(job.message.projectName)"])
            return .recorded(recorded)
        } catch let error as JobStoreError where error.code == .leaseLost {
            events.publish(.lost(job))
            logger.warning("lost the claim on the job (its lease ran out and another worker may hold it): nothing written")
            return .lost("lost the claim on the job")
        } catch {
            // The lease will run out and another claim will run the job again: nothing is lost.
            events.publish(.lost(job))
            logger.error("cannot record the outcome of a job: \(error)")
            return .lost("cannot record the outcome of the job")
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

    /// What to record of `outcome`: a job the primary archive has not found goes into the secondary lane, or is deferred
    /// there to its next opening (the secondary's timetable decides); a retry waits for the back-off
    /// (``RetryPolicy``); any other outcome is recorded as it is.
    private func result(for outcome: PipelineOutcome, afterAttempt attempts: Int, now: Date) -> JobResult {
        guard case .notInPrimary = outcome else { return configuration.retryPolicy.result(for: outcome, afterAttempt: attempts, now: now) }
        guard let closed = pipeline.secondaryClosed(at: now) else { return JobResult(outcome) }
        var result = JobResult(closed)
        result.lane = .secondary
        return result
    }

    /// Lets the lane's in-flight jobs finish for up to `drainTimeout`, then cancels them (they release themselves).
    private func drain(jobs: inout TaskGroup<Void>, of lane: ArchiveLane<C>) async {
        let deadline = clock.now.advanced(by: configuration.drainTimeout)
        while lane.inFlight > 0, clock.now < deadline {
            await signals[lane.lane].wait(upTo: clock.now.duration(to: deadline), on: clock)
        }
        jobs.cancelAll()
        await jobs.waitForAll()
    }

    /// Runs one step of the claim and records how long it took: in the metrics, and in `steps`, for the span of the
    /// job the claim brings (not known yet).
    private func timed<Result>(_ step: String, into steps: inout [ClaimStep], _ body: () async throws -> Result) async throws -> Result {
        let started = ContinuousClock.now
        let start = DefaultTracerClock.now
        defer { pipeline.metrics.recordStep(step, duration: ContinuousClock.now - started) }
        let result = try await body()
        steps.append(ClaimStep(name: step, start: start, end: DefaultTracerClock.now))
        return result
    }
}
