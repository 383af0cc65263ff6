public import PixlCore

/// Follows an Orthanc job to its end (SPEC §3 step 6): polls promptly at first (20 ms), backing off gently
/// (×1.25 a poll) to one second, and times out only on time spent past `Pending`.
///
/// The gentle growth matters: doubling (20, 40, 80, 160 ms …) saw a 190 ms C-MOVE only at its 300 ms poll.
public struct JobFollower<Client: OrthancClient>: Sendable {
    public enum Result: Sendable, Hashable {
        case succeeded
        case failed(String)
        /// The job ran longer than the transfer timeout.
        case timedOut
        /// Orthanc answered 404: the job left its history (`JobsHistorySize`); the caller looks for its result.
        case evicted
    }

    let orthanc: Client
    let timeout: Duration
    var firstDelay: Duration = .milliseconds(20)
    var maximumDelay: Duration = .seconds(1)

    public init(orthanc: Client, timeout: Duration) {
        self.orthanc = orthanc
        self.timeout = timeout
    }

    public func follow(_ jobID: String) async throws -> Result {
        let clock = ContinuousClock()
        var started: ContinuousClock.Instant?
        var delay = firstDelay
        while true {
            guard let job = try await orthanc.job(id: jobID) else { return .evicted }
            switch job.state {
            case .success: return .succeeded
            case .failure: return .failed(job.errorDescription ?? "Orthanc job failed")
            case .pending: started = nil
            case .running, .paused, .retry:
                let now = clock.now
                if let start = started {
                    if now - start > timeout { return .timedOut }
                } else {
                    started = now
                }
            }
            try await Task.sleep(for: delay)
            delay = min(delay * 1.25, maximumDelay)
        }
    }
}
