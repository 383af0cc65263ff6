public import Foundation
public import Logging

/// Both lanes (issue 13): the primary archive's and the secondary's. They hear how their archive answers
/// (``ArchiveObserver``), whichever lane's job asked it.
public final class Lanes<C: Clock<Duration>>: ArchiveObserver {
    public let primary: ArchiveLane<C>
    public let secondary: ArchiveLane<C>

    /// - Parameters:
    ///   - onChange: called when a lane may claim sooner than its waiters think (the worker pool's signal).
    ///   - onBreakerChange: called on each change of a breaker's state, with the lane and the new state's name.
    public init(
        configuration: PixlConfiguration,
        clock: C,
        logger: Logger,
        onChange: @escaping @Sendable () -> Void = {},
        onBreakerChange: @escaping @Sendable (Lane, String) -> Void = { _, _ in }
    ) throws(InvalidRateError) {
        func lane(_ lane: Lane) throws(InvalidRateError) -> ArchiveLane<C> {
            let modality = lane == .primary ? configuration.primary.modality : configuration.hasDistinctSecondary ? configuration.secondary?.modality : nil
            return try ArchiveLane(
                lane, modality: modality, settings: configuration.settings(of: lane), weights: configuration.projectWeights, clock: clock, logger: logger,
                onChange: onChange, onBreakerChange: { onBreakerChange(lane, $0) }
            )
        }
        primary = try lane(.primary)
        secondary = try lane(.secondary)
    }

    public subscript(_ lane: Lane) -> ArchiveLane<C> {
        switch lane {
        case .primary: primary
        case .secondary: secondary
        }
    }

    public var all: [ArchiveLane<C>] { [primary, secondary] }

    /// Sets both lanes' rate: PIXL's `/token-bucket-refresh-rate`.
    public func setRate(_ rate: Double) async throws(InvalidRateError) {
        for lane in all { try await lane.setRate(rate) }
    }

    // MARK: ArchiveObserver

    public func archive(_ archive: Archive, answered operation: ArchiveOperation, after latency: Duration) async {
        guard let lane = Lane(archive: archive) else { return }
        await self[lane].archiveAnswered(operation, after: latency)
    }

    public func archive(_ archive: Archive, faulted operation: ArchiveOperation, after latency: Duration) async {
        guard let lane = Lane(archive: archive) else { return }
        await self[lane].archiveFaulted(operation, after: latency)
    }
}
