import Synchronization

/// Wakes the worker pool's claim loop when work may have arrived (a message was enqueued, a slot
/// freed), so it sleeps between jobs instead of polling.
public final class WorkSignal: Sendable {
    private struct State {
        var signalled = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    public init() {}

    /// Wakes the waiter, or the next one to wait.
    public func notify() {
        let waiter = state.withLock { state in
            guard let waiter = state.waiter else {
                state.signalled = true
                return nil as CheckedContinuation<Void, Never>?
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Returns when notified (or already notified since the last wait), after `timeout` on `clock`, or on
    /// cancellation. Only one task waits at a time.
    public func wait<C: Clock<Duration>>(upTo timeout: Duration, on clock: C) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withTaskCancellationHandler {
                    await self.waitForNotification()
                } onCancel: {
                    self.notify()
                }
            }
            group.addTask {
                guard (try? await clock.sleep(for: timeout)) != nil else { return }
                self.notify()
            }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForNotification() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let alreadySignalled = state.withLock { state in
                if state.signalled {
                    state.signalled = false
                    return true
                }
                state.waiter = continuation
                return false
            }
            if alreadySignalled { continuation.resume() }
        }
    }
}
