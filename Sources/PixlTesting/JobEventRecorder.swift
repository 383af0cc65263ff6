public import PixlCore
import Synchronization

/// Hears every ``JobEvent`` published from its creation, so that tests wait for what happened instead of polling.
///
/// ```swift
/// let recorder = JobEventRecorder(events)
/// … start the pool …
/// let done = await recorder.first { if case .recorded(let job) = $0 { job.state.isFinal } else { false } }
/// ```
public final class JobEventRecorder: Sendable {
    private struct Waiter {
        var matches: @Sendable (JobEvent) -> Bool
        var continuation: CheckedContinuation<JobEvent, Never>
    }

    private struct State {
        var events: [JobEvent] = []
        var waiters: [Waiter] = []
    }

    private let state = Mutex(State())

    public init(_ events: JobEvents) {
        events.subscribe { [weak self] event in self?.hear(event) }
    }

    /// Every event heard so far, in order.
    public var events: [JobEvent] { state.withLock { $0.events } }

    /// The first event, heard already or to come, for which `matches` holds.
    public func first(where matches: @escaping @Sendable (JobEvent) -> Bool) async -> JobEvent {
        await withCheckedContinuation { continuation in
            let heard: JobEvent? = state.withLock { state in
                if let event = state.events.first(where: matches) { return event }
                state.waiters.append(Waiter(matches: matches, continuation: continuation))
                return nil
            }
            if let heard { continuation.resume(returning: heard) }
        }
    }

    /// The job as a worker of this process claimed it.
    public func started(_ id: Job.ID) async -> Job {
        let event = await first { if case .started(let job) = $0 { job.id == id } else { false } }
        guard case .started(let job) = event else { preconditionFailure("matched a .started event") }
        return job
    }

    /// The job as a worker of this process recorded it in a final state.
    public func finished(_ id: Job.ID) async -> Job {
        let event = await first { if case .recorded(let job) = $0 { job.id == id && job.state.isFinal } else { false } }
        guard case .recorded(let job) = event else { preconditionFailure("matched a .recorded event") }
        return job
    }

    private func hear(_ event: JobEvent) {
        let ready: [Waiter] = state.withLock { state in
            state.events.append(event)
            let ready = state.waiters.filter { $0.matches(event) }
            state.waiters.removeAll { $0.matches(event) }
            return ready
        }
        for waiter in ready { waiter.continuation.resume(returning: event) }
    }
}
