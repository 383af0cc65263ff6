/// Where the pipeline, the Orthanc client and the intake record what they measure (SPEC §5 `/metrics`).
///
/// PixlCore has no metrics dependency: `PixlAPI.PixlMetrics` implements this through swift-metrics, and
/// ``NoPipelineMetrics`` discards everything (for `process` and tests). Job outcomes, the rate and the
/// workers' activity reach the metrics as ``JobEvent``s instead. Labels are low-cardinality names, never
/// identifiers.
public protocol PipelineMetrics: Sendable {
    /// One pipeline step took `duration` (`step`: e.g. `back_pressure`, `rate_gate`, `find_local`,
    /// `query_primary`, `query_secondary`, `retrieve`, `tag`, `route_to_anon`).
    func recordStep(_ step: String, duration: Duration)

    /// One Orthanc REST call took `duration`; `operation` is a route template such as `POST /tools/find`.
    func recordOrthancCall(_ operation: String, duration: Duration)

    /// An Orthanc call failed; `kind` is a short class of error (`unavailable`, `timeout`, `http_5xx`, …).
    func recordOrthancError(_ operation: String, kind: String)

    /// A body that is not a valid message was refused (`source`: `amqp`).
    func recordRejectedMessage(source: String)
}

/// Discards every measurement.
public struct NoPipelineMetrics: PipelineMetrics {
    public init() {}
    public func recordStep(_ step: String, duration: Duration) {}
    public func recordOrthancCall(_ operation: String, duration: Duration) {}
    public func recordOrthancError(_ operation: String, kind: String) {}
    public func recordRejectedMessage(source: String) {}
}
