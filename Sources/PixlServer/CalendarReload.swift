import Dispatch
import Foundation
import Logging
import PixlCore

/// Re-reads the lanes' calendar files on SIGHUP (they are also re-read when they change, looked at once a second).
enum CalendarReload {
    /// Starts listening for SIGHUP; keep the returned source for as long as it should listen.
    static func onHangUp(_ configuration: PixlConfiguration, logger: Logger) -> any DispatchSourceSignal {
        // The default action of SIGHUP ends the process: the source hears it instead.
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        let calendars = [configuration.primaryLane, configuration.secondaryLane].compactMap(\.timetable.calendar)
        source.setEventHandler {
            for calendar in calendars {
                // A problem is logged by the calendar itself (its `onProblem`), once.
                if case .success(let closedDays) = calendar.reload() {
                    logger.notice("calendar re-read on SIGHUP: \(closedDays.dayCount) closed days", metadata: ["pixl.calendar": "\(calendar.variable)"])
                }
            }
        }
        source.resume()
        return source
    }
}
