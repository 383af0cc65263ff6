/// Where the pipeline and the worker pool record what they measure (SPEC §5 `/metrics`).
///
/// PixlCore has no metrics dependency: `PixlAPI.PixlMetrics` implements this over swift-prometheus, and
/// ``NoPipelineMetrics`` discards everything (for `process` and tests). Labels are low-cardinality names,
/// never identifiers.
public protocol PipelineMetrics: Sendable {
    /// A job reached `state` (final or scheduled) after a worker processed it.
    func recordOutcome(_ state: JobState)

    /// One pipeline step took `duration` (`step`: e.g. `back_pressure`, `rate_gate`, `find_local`,
    /// `query_primary`, `query_secondary`, `retrieve`, `tag`, `route_to_anon`).
    func recordStep(_ step: String, duration: Duration)

    /// One Orthanc REST call took `duration`; `operation` is a route template such as `POST /tools/find`.
    func recordOrthancCall(_ operation: String, duration: Duration)

    /// An Orthanc call failed; `kind` is a short class of error (`unavailable`, `timeout`, `http_5xx`, …).
    func recordOrthancError(_ operation: String, kind: String)

    /// The token bucket's rate changed.
    func setRate(_ rate: Double)

    /// Jobs being processed right now.
    func setInFlight(_ count: Int)

    /// Jobs waiting (queued, retry, deferred).
    func setQueueDepth(_ count: Int)

    /// A body that is not a valid message was refused (`source`: `amqp`).
    func recordRejectedMessage(source: String)
}

extension PipelineMetrics {
    public func recordRejectedMessage(source: String) {}
}

/// Discards every measurement.
public struct NoPipelineMetrics: PipelineMetrics {
    public init() {}
    public func recordOutcome(_ state: JobState) {}
    public func recordStep(_ step: String, duration: Duration) {}
    public func recordOrthancCall(_ operation: String, duration: Duration) {}
    public func recordOrthancError(_ operation: String, kind: String) {}
    public func setRate(_ rate: Double) {}
    public func setInFlight(_ count: Int) {}
    public func setQueueDepth(_ count: Int) {}
}
