import Synchronization

/// What the workers of this process are doing, as their ``JobEvent``s tell: for `/status` and the metrics.
public final class WorkerActivity: Sendable {
    private struct State {
        var inFlight: Set<Job.ID> = []
        var isAccepting = true
    }

    /// `PIXL_MAX_MESSAGES_IN_FLIGHT`; 0 for a process without workers.
    public let maxInFlight: Int
    private let state = Mutex(State())

    /// Follows `events` from now on.
    public init(maxInFlight: Int, events: JobEvents) {
        self.maxInFlight = maxInFlight
        events.subscribe { [weak self] event in self?.hear(event) }
    }

    private func hear(_ event: JobEvent) {
        state.withLock { state in
            switch event {
            case .started(let job): state.inFlight.insert(job.id)
            case .recorded(let job), .released(let job), .lost(let job): state.inFlight.remove(job.id)
            case .draining: state.isAccepting = false
            case .enqueued: break
            }
        }
    }

    /// Jobs being processed by this process right now.
    public var inFlight: Int { state.withLock { $0.inFlight.count } }

    /// Whether this process claims jobs (false once graceful shutdown began, or when it has no workers).
    public var isAccepting: Bool { maxInFlight > 0 && state.withLock { $0.isAccepting } }
}
