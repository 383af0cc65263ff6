import Synchronization

/// Something that happened to jobs in this process: what the intake, the worker pool, `/status` and the
/// metrics learn from each other (SPEC §4, §5).
public enum JobEvent: Sendable, Hashable {
    /// Messages were stored (HTTP or RabbitMQ); `newJobs` of them made new jobs, the rest matched waiting ones.
    case enqueued(newJobs: Int)
    /// A worker of this process claimed the job.
    case started(Job)
    /// A worker of this process recorded the job's result: the job as it now is in the store.
    case recorded(Job)
    /// A worker of this process put the job back unchanged (graceful shutdown).
    case released(Job)
    /// A worker of this process lost its claim on the job (its lease ran out, another worker may hold it, or the store
    /// could not be written) and stopped, writing nothing: the job runs again under another claim.
    case lost(Job)
    /// The worker pool stopped claiming jobs (graceful shutdown began).
    case draining
}

/// The one place jobs' events are published and heard, in process.
///
/// Subscribers are called synchronously, in subscription order, on the publisher's task: they must return
/// quickly (count, signal, or hand the event to a task of their own). Subscribe while assembling the
/// service, before anything publishes.
///
/// ```swift
/// let events = JobEvents()
/// events.subscribe { event in if case .enqueued = event { signal.notify() } }
/// events.publish(.enqueued(newJobs: 3))
/// ```
public final class JobEvents: Sendable {
    private let subscribers = Mutex<[@Sendable (JobEvent) -> Void]>([])

    public init() {}

    /// Calls `handler` with every event published from now on.
    public func subscribe(_ handler: @escaping @Sendable (JobEvent) -> Void) {
        subscribers.withLock { $0.append(handler) }
    }

    public func publish(_ event: JobEvent) {
        for handler in subscribers.withLock({ $0 }) { handler(event) }
    }
}
