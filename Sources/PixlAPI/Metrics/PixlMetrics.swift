public import CoreMetrics
import Metrics
public import PixlCore
public import Prometheus

/// The service's metrics, recorded through swift-metrics into a Prometheus registry that `GET /metrics` exposes.
///
/// The pipeline and the Orthanc client record through ``PipelineMetrics``; job outcomes and the rate come from
/// ``JobEvents``; the gauges describing the store are set at scrape time. The executable bootstraps
/// swift-metrics with ``factory`` so that Hummingbird's `MetricsMiddleware` lands in the same registry.
public final class PixlMetrics: PipelineMetrics, Sendable {
    // MARK: Member variables

    public let registry: PrometheusCollectorRegistry
    /// Where every metric is recorded: the Prometheus backend (with this service's histogram buckets), and with it the
    /// OTLP exporter's when one is given. The executable bootstraps swift-metrics with it.
    public let factory: any MetricsFactory
    private let rate: CoreMetrics.Gauge
    private let inFlight: CoreMetrics.Gauge
    private let queueDepth: CoreMetrics.Gauge
    private let jobsByState: [JobState: CoreMetrics.Gauge]
    private let outcomes: [JobState: CoreMetrics.Counter]

    /// Step latencies: 1 ms to 10 minutes.
    static let stepBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(250),
        .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
        .seconds(120), .seconds(300), .seconds(600),
    ]
    /// Orthanc call latencies: 1 ms to 30 s.
    static let orthancBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(2.5), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
        .seconds(30),
    ]

    enum Label {
        static let rate = "pixl_token_bucket_rate_per_second"
        static let inFlight = "pixl_jobs_in_flight"
        static let queueDepth = "pixl_queue_depth"
        static let jobs = "pixl_jobs"
        static let outcomes = "pixl_job_outcomes_total"
        static let steps = "pixl_pipeline_step_duration_seconds"
        static let orthancCalls = "pixl_orthanc_request_duration_seconds"
        static let orthancErrors = "pixl_orthanc_errors_total"
        static let rejected = "pixl_rejected_messages_total"
        static let laneRate = "pixl_lane_rate_per_second"
        static let laneInFlight = "pixl_lane_jobs_in_flight"
        static let laneOpen = "pixl_lane_open"
        static let laneBreaker = "pixl_lane_breaker_state"
        static let laneBreakerChanges = "pixl_lane_breaker_transitions_total"
    }

    // MARK: Initialization

    /// - Parameters:
    ///   - registry: where to register; a fresh registry by default.
    ///   - exporter: another backend that records every metric too (OpenTelemetry's, exporting over OTLP).
    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), alsoRecordingTo exporter: (any MetricsFactory)? = nil) {
        self.registry = registry
        var prometheus = PrometheusMetricsFactory(registry: registry)
        prometheus.durationHistogramBuckets = [Label.steps: Self.stepBuckets, Label.orthancCalls: Self.orthancBuckets]
        let factory: any MetricsFactory = exporter.map { MultiplexMetricsHandler(factories: [prometheus, $0]) } ?? prometheus
        self.factory = factory
        rate = CoreMetrics.Gauge(label: Label.rate, factory: factory)
        inFlight = CoreMetrics.Gauge(label: Label.inFlight, factory: factory)
        queueDepth = CoreMetrics.Gauge(label: Label.queueDepth, factory: factory)
        jobsByState = Dictionary(uniqueKeysWithValues: JobState.allCases.map { ($0, CoreMetrics.Gauge(label: Label.jobs, dimensions: [("state", $0.rawValue)], factory: factory)) })
        // Every outcome is listed from the first scrape, at 0.
        outcomes = Dictionary(
            uniqueKeysWithValues: JobState.allCases.map { ($0, CoreMetrics.Counter(label: Label.outcomes, dimensions: [("outcome", $0.rawValue)], factory: factory)) }
        )
    }

    /// Counts job outcomes as `events` publishes them.
    public func follow(_ events: JobEvents) {
        events.subscribe { [self] event in
            if case .recorded(let job) = event { outcomes[job.state]?.increment() }
        }
    }

    /// Counts a change of a lane's circuit breaker (`state`: `open`, `half_open`, `closed`).
    public func recordBreakerChange(_ lane: Lane, to state: String) {
        CoreMetrics.Counter(label: Label.laneBreakerChanges, dimensions: [("lane", lane.rawValue), ("to", state)], factory: factory).increment()
    }

    // MARK: PipelineMetrics

    public func recordStep(_ step: String, duration: Duration) {
        Timer(label: Label.steps, dimensions: [("step", step)], factory: factory).record(duration: duration)
    }

    public func recordOrthancCall(_ operation: String, duration: Duration) {
        Timer(label: Label.orthancCalls, dimensions: [("operation", operation)], factory: factory).record(duration: duration)
    }

    public func recordOrthancError(_ operation: String, kind: String) {
        CoreMetrics.Counter(label: Label.orthancErrors, dimensions: [("operation", operation), ("kind", kind)], factory: factory).increment()
    }

    public func recordRejectedMessage(source: String) {
        CoreMetrics.Counter(label: Label.rejected, dimensions: [("source", source)], factory: factory).increment()
    }

    // MARK: Gauges

    public func setRate(_ rate: Double) {
        self.rate.record(rate)
    }

    public func setInFlight(_ count: Int) {
        inFlight.record(count)
    }

    /// Sets each lane's gauges: its rate (0 while paused), jobs in flight, whether it is open, and its breaker's state
    /// (1 for the current state, 0 for the others).
    public func setLanes(_ lanes: [LaneSnapshot]) {
        for lane in lanes {
            let name = ("lane", lane.lane.rawValue)
            CoreMetrics.Gauge(label: Label.laneRate, dimensions: [name], factory: factory).record(lane.paused ? 0 : lane.rate)
            CoreMetrics.Gauge(label: Label.laneInFlight, dimensions: [name], factory: factory).record(lane.inFlight)
            CoreMetrics.Gauge(label: Label.laneOpen, dimensions: [name], factory: factory).record(lane.isOpen ? 1 : 0)
            for state in ["closed", "open", "half_open"] {
                CoreMetrics.Gauge(label: Label.laneBreaker, dimensions: [name, ("state", state)], factory: factory)
                    .record(lane.breaker == state ? 1 : 0)
            }
        }
    }

    /// Sets the per-state job gauges and the queue depth (jobs waiting) from the store's counts.
    public func setJobCounts(_ counts: [JobState: Int], waiting: Int) {
        for state in JobState.allCases {
            jobsByState[state]?.record(counts[state] ?? 0)
        }
        queueDepth.record(waiting)
    }

    /// The text exposition format.
    public func exposition() -> [UInt8] {
        registry.emitToBuffer()
    }
}
