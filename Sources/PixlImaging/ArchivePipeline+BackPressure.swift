public import Logging
import PixlCore

extension ArchivePipeline {
    /// SPEC §3 step 1: returns once orthanc-raw has no job in state `Pending`, polling with a back-off
    /// from 50 ms, ×1.5 a poll, to 1 s (a longer cap overshoots: Orthanc's queue drains in well under a
    /// second). Waits on the pipeline's clock; cancellable. A transient error is treated as "busy" and
    /// waited out.
    public func waitWhileOrthancIsBusy(logger: Logger) async throws {
        var delay = Duration.milliseconds(50)
        var loggedWait = false
        while true {
            do {
                if try await !orthanc.jobs().contains(where: { $0.state == .pending }) { return }
                if !loggedWait {
                    logger.info("orthanc-raw has pending jobs: waiting before starting", metadata: [LogKey.step: "back-pressure"])
                    loggedWait = true
                }
            } catch let error as OrthancError where error.isTransient {
                logger.warning("orthanc-raw unreachable while checking its jobs: \(error)", metadata: [LogKey.step: "back-pressure"])
            }
            try await clock.sleep(for: delay)
            delay = min(delay * 1.5, .seconds(1))
        }
    }
}
