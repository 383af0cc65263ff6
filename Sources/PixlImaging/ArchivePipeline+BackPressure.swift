public import Logging
import PixlCore

extension ArchivePipeline {
    /// How long back-pressure waits, while orthanc-raw has a `Pending` job, before looking again when
    /// none of our own jobs ends first.
    public static var busyPollInterval: Duration { .milliseconds(25) }

    /// SPEC §3 step 1: returns once orthanc-raw has no job in state `Pending`.
    ///
    /// While one is pending it looks again as soon as the pipeline's ``JobFollower`` sees one of our own
    /// jobs end (a C-MOVE or a `/modify`: a slot of orthanc-raw's job engine is free and it starts the next
    /// pending job), or after ``busyPollInterval``, whichever comes first. Orthanc's queue drains a job at a
    /// time, so each look should follow it closely: the back-off this replaced (50 ms, ×1.5 a poll, to 1 s)
    /// left orthanc-raw idle between jobs, for 0.76 of the bare client's throughput at 16 in flight.
    ///
    /// A transient error counts as busy and is waited out with that back-off, so an unreachable
    /// orthanc-raw is not asked 40 times a second. Waits on the pipeline's clock; cancellable.
    public func waitWhileOrthancIsBusy(logger: Logger) async throws {
        var errorDelay = Duration.milliseconds(50)
        var loggedWait = false
        while true {
            do {
                if try await !orthanc.jobs().contains(where: { $0.state == .pending }) { return }
            } catch let error as OrthancError where error.isTransient {
                logger.warning("orthanc-raw unreachable while checking its jobs: \(error)", metadata: [LogKey.step: "back-pressure"])
                try await clock.sleep(for: errorDelay)
                errorDelay = min(errorDelay * 1.5, .seconds(1))
                continue
            }
            if !loggedWait {
                logger.info("orthanc-raw has pending jobs: waiting before starting", metadata: [LogKey.step: "back-pressure"])
                loggedWait = true
            }
            await jobFollower.jobEnded.wait(upTo: Self.busyPollInterval, on: clock)
            try Task.checkCancellation()
        }
    }
}
