public import PixlCore

/// Follows an Orthanc job to its end (SPEC §3 step 6): polls promptly at first (20 ms), backing off gently
/// (×1.25 a poll) to one second, and times out only on time spent past `Pending`.
///
/// The gentle growth matters: doubling (20, 40, 80, 160 ms …) saw a 190 ms C-MOVE only at its 300 ms poll.
/// Time is read from, and waited on, the injected clock, so tests drive it with a `MockClock`.
///
/// Every job it sees end (`Success` or `Failure`) notifies ``jobEnded``: a slot of orthanc-raw's job engine
/// is free, which ends back-pressure's wait early (``ArchivePipeline/waitWhileOrthancIsBusy(logger:)``).
public struct JobFollower<Client: OrthancClient>: Sendable {
    public enum Result: Sendable, Hashable {
        case succeeded
        /// Orthanc's `ErrorDescription` and, when there is one, its `ErrorDetails`.
        case failed(description: String, details: String?)
        /// The job ran longer than the transfer timeout.
        case timedOut
        /// Orthanc answered 404: the job left its history (`JobsHistorySize`); the caller looks for its result.
        case evicted
    }

    let orthanc: Client
    let timeout: Duration
    let clock: any Clock<Duration>
    var firstDelay: Duration = .milliseconds(20)
    var maximumDelay: Duration = .seconds(1)
    /// Notified when a followed job is seen to end; shared by copies of this follower.
    let jobEnded = WorkSignal()

    public init(orthanc: Client, timeout: Duration, clock: any Clock<Duration> = ContinuousClock()) {
        self.orthanc = orthanc
        self.timeout = timeout
        self.clock = clock
    }

    public func follow(_ jobID: String) async throws -> Result {
        try await follow(jobID, on: clock)
    }

    private func follow<C: Clock<Duration>>(_ jobID: String, on clock: C) async throws -> Result {
        var started: C.Instant?
        var delay = firstDelay
        while true {
            guard let job = try await orthanc.job(id: jobID) else { return .evicted }
            switch job.state {
            case .success:
                jobEnded.notify()
                return .succeeded
            case .failure:
                jobEnded.notify()
                return .failed(description: job.errorDescription ?? "Orthanc job failed", details: job.errorDetails)
            case .pending: started = nil
            case .running, .paused, .retry:
                let now = clock.now
                if let start = started {
                    if start.duration(to: now) > timeout { return .timedOut }
                } else {
                    started = now
                }
            }
            try await clock.sleep(for: delay)
            delay = min(delay * 1.25, maximumDelay)
        }
    }
}
