public import PixlCore
public import Prometheus

/// The service's Prometheus metrics: what `GET /metrics` exposes.
///
/// The worker pool and the pipeline record into it through ``PipelineMetrics``; the API sets the rate and
/// refreshes the queue depth before each scrape.
public final class PixlMetrics: PipelineMetrics, Sendable {
    // MARK: Member variables

    public let registry: PrometheusCollectorRegistry
    private let rate: Gauge
    private let inFlight: Gauge
    private let queueDepth: Gauge
    private let jobsByState: [JobState: Gauge]

    /// Step latencies: seconds, from 1 ms to 10 minutes.
    public static let stepBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(250),
        .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
        .seconds(120), .seconds(300), .seconds(600),
    ]
    /// Orthanc call latencies: 1 ms to 30 s.
    public static let orthancBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(2.5), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
        .seconds(30),
    ]

    // MARK: Initialization

    /// - Parameter registry: where to register; a fresh registry by default.
    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        rate = registry.makeGauge(
            descriptor: .init(namespace: "pixl", metricName: "token_bucket_rate", unitName: "per_second", helpText: "Token bucket refresh rate (messages started per second; 0 = paused).")
        )
        inFlight = registry.makeGauge(
            descriptor: .init(namespace: "pixl", metricName: "jobs_in_flight", unitName: "", helpText: "Jobs being processed by this process.")
        )
        queueDepth = registry.makeGauge(
            descriptor: .init(namespace: "pixl", metricName: "queue_depth", unitName: "", helpText: "Jobs waiting: queued, retry or deferred.")
        )
        var byState: [JobState: Gauge] = [:]
        for state in JobState.allCases {
            byState[state] = registry.makeGauge(
                descriptor: .init(namespace: "pixl", metricName: "jobs", unitName: "", helpText: "Jobs in the store by state."),
                labels: [("state", state.rawValue)]
            )
        }
        jobsByState = byState
        // Register the labelled families up front so a scrape lists them before the first sample.
        for state in JobState.allCases {
            _ = outcomeCounter(state)
        }
    }

    // MARK: PipelineMetrics

    public func recordOutcome(_ state: JobState) {
        outcomeCounter(state).increment()
    }

    public func recordStep(_ step: String, duration: Duration) {
        registry.makeDurationHistogram(
            descriptor: .init(namespace: "pixl", metricName: "pipeline_step_duration", unitName: "seconds", helpText: "Duration of each pipeline step."),
            labels: [("step", step)],
            buckets: Self.stepBuckets
        ).record(duration)
    }

    public func recordOrthancCall(_ operation: String, duration: Duration) {
        registry.makeDurationHistogram(
            descriptor: .init(namespace: "pixl", metricName: "orthanc_request_duration", unitName: "seconds", helpText: "Duration of Orthanc REST calls."),
            labels: [("operation", operation)],
            buckets: Self.orthancBuckets
        ).record(duration)
    }

    public func recordOrthancError(_ operation: String, kind: String) {
        registry.makeCounter(
            descriptor: .init(namespace: "pixl", metricName: "orthanc_errors", unitName: "total", helpText: "Failed Orthanc REST calls."),
            labels: [("operation", operation), ("kind", kind)]
        ).increment()
    }

    public func recordRejectedMessage(source: String) {
        registry.makeCounter(
            descriptor: .init(namespace: "pixl", metricName: "rejected_messages", unitName: "total", helpText: "Bodies refused as not a valid message, by source."),
            labels: [("source", source)]
        ).increment()
    }

    public func setRate(_ rate: Double) {
        self.rate.set(to: rate)
    }

    public func setInFlight(_ count: Int) {
        inFlight.set(to: Double(count))
    }

    public func setQueueDepth(_ count: Int) {
        queueDepth.set(to: Double(count))
    }

    // MARK: Methods

    /// Sets the per-state job gauges (and the queue depth) from the store's counts.
    public func setJobCounts(_ counts: [JobState: Int]) {
        for state in JobState.allCases {
            jobsByState[state]?.set(to: Double(counts[state] ?? 0))
        }
        setQueueDepth((counts[.queued] ?? 0) + (counts[.retry] ?? 0) + (counts[.deferred] ?? 0))
    }

    /// The text exposition format.
    public func exposition() -> [UInt8] {
        registry.emitToBuffer()
    }

    private func outcomeCounter(_ state: JobState) -> Counter {
        registry.makeCounter(
            descriptor: .init(namespace: "pixl", metricName: "job_outcomes", unitName: "total", helpText: "Processing outcomes, by resulting job state."),
            labels: [("outcome", state.rawValue)]
        )
    }
}
