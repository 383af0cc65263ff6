import PixlCore

extension JobState {
    /// Whether a job recorded in this state marks its span failed: it failed, was discarded, or met a fault it is
    /// retried after.
    var failsItsSpan: Bool {
        switch self {
        case .failed, .discarded, .retry: true
        case .queued, .inProgress, .deferred, .succeeded: false
        }
    }
}
