import PixlCore
import Synchronization

/// Wakes tasks that sleep until something may have changed, so they wait for an event instead of
/// polling: the worker pool's claim loop (a message was enqueued, a slot freed) and back-pressure (one
/// of our Orthanc jobs ended).
///
/// A notification wakes every task waiting at that moment; with none waiting, it wakes the next one
/// to wait, so an event between a look and the wait that follows it is not missed.
public final class WorkSignal: Sendable {
    private struct State {
        var signalled = false
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        /// Waits that ended (timeout, cancellation) before their continuation was stored.
        var ended: Set<UInt64> = []
        var nextID: UInt64 = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Tasks waiting for a notification now (tests synchronise on it).
    var waiterCount: Int { state.withLock { $0.waiters.count } }

    /// Wakes every waiter, or the next one to wait.
    public func notify() {
        let waiters = state.withLock { state in
            guard !state.waiters.isEmpty else {
                state.signalled = true
                return [CheckedContinuation<Void, Never>]()
            }
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns when notified (or already notified since the last wait), after `timeout` on `clock`, or on
    /// cancellation.
    public func wait<C: Clock<Duration>>(upTo timeout: Duration, on clock: C) async {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withTaskCancellationHandler {
                    await self.waitForNotification(id)
                } onCancel: {
                    self.end(id)
                }
            }
            group.addTask {
                guard (try? await clock.sleep(for: timeout)) != nil else { return }
                self.end(id)
            }
            await group.next()
            group.cancelAll()
        }
        // Both children are done: nothing can end this wait any more.
        state.withLock { _ = $0.ended.remove(id) }
    }

    private func waitForNotification(_ id: UInt64) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { state in
                if state.ended.contains(id) { return true }
                if state.signalled {
                    state.signalled = false
                    return true
                }
                state.waiters[id] = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// Ends one wait without waking the others.
    private func end(_ id: UInt64) {
        let waiter = state.withLock { state in
            guard let waiter = state.waiters.removeValue(forKey: id) else {
                state.ended.insert(id)
                return nil as CheckedContinuation<Void, Never>?
            }
            return waiter
        }
        waiter?.resume()
    }
}

/// One ``WorkSignal`` per lane, notified together: each lane's claim loop waits on its own, so a notification that
/// comes while one loop is busy is kept for that loop and not taken by the other.
public final class LaneSignals: Sendable {
    private let primary = WorkSignal()
    private let secondary = WorkSignal()

    public init() {}

    /// Wakes every lane's loop (or each one's next wait).
    public func notify() {
        primary.notify()
        secondary.notify()
    }

    subscript(_ lane: Lane) -> WorkSignal {
        switch lane {
        case .primary: primary
        case .secondary: secondary
        }
    }
}
