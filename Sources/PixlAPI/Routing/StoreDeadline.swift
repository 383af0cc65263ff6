import Synchronization

/// How long a request waits for the job store before answering `503` with `Retry-After` (a database that is down or
/// frozen must not hang the API, nor hide from probes that it is unavailable).
struct StoreDeadline: Sendable {
    let duration: Duration

    /// The store did not answer within ``duration``.
    struct Exceeded: Error {
        let duration: Duration
    }

    /// `body`'s result, or ``Exceeded`` once ``duration`` has passed. The request does not wait for `body` to notice
    /// its cancellation: a store stuck in a connect or a query is left to give up on its own.
    func run<Result: Sendable>(_ body: @escaping @Sendable () async throws -> Result) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            let race = Race(continuation)
            let work = Task {
                do { race.finish(.success(try await body())) } catch { race.finish(.failure(error)) }
            }
            race.setTimer(
                Task {
                    guard (try? await Task.sleep(for: duration)) != nil else { return }
                    if race.finish(.failure(Exceeded(duration: duration))) { work.cancel() }
                }
            )
        }
    }

    /// The first of the work and the timer to finish resumes the request; the work finishing cancels the timer.
    private final class Race<Result: Sendable>: Sendable {
        private struct State {
            var continuation: CheckedContinuation<Result, any Error>?
            var timer: Task<Void, Never>?
        }

        private let state: Mutex<State>

        init(_ continuation: CheckedContinuation<Result, any Error>) {
            state = Mutex(State(continuation: continuation))
        }

        func setTimer(_ timer: Task<Void, Never>) {
            let finished = state.withLock { state in
                state.timer = timer
                return state.continuation == nil
            }
            if finished { timer.cancel() }
        }

        /// Resumes the request with `result` unless it was resumed already; whether it did.
        @discardableResult
        func finish(_ result: Swift.Result<Result, any Error>) -> Bool {
            let (continuation, timer) = state.withLock { state in
                defer { state.continuation = nil }
                return (state.continuation, state.timer)
            }
            guard let continuation else { return false }
            timer?.cancel()
            continuation.resume(with: result)
            return true
        }
    }
}
