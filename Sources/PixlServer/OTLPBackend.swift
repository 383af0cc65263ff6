import CoreMetrics
import Logging
import OTel
import PixlCore
import ServiceLifecycle
import Tracing

/// What `serve` exports over OTLP/HTTP with OpenTelemetry (swift-otel), as PIXL's later versions do: the traces, and
/// the job metrics (recorded into the Prometheus registry of `/metrics` and into this exporter at once).
///
/// It exists only when an endpoint is set (`OTEL_EXPORTER_OTLP_ENDPOINT`, or a signal's own `…_TRACES_ENDPOINT`,
/// `…_METRICS_ENDPOINT`) and `OTEL_SDK_DISABLED` is not `true`: otherwise nothing is exported and no connection is
/// tried (swift-otel alone would send to localhost:4318). `OTEL_TRACES_EXPORTER=none` or `OTEL_METRICS_EXPORTER=none`
/// leaves one signal out. swift-otel reads the `OTEL_*` variables from the process environment itself, as every
/// OpenTelemetry SDK does (not from `.env`); the service name defaults to `pixl-imaging`. Logs stay on standard error.
struct OTLPBackend {
    /// The exporters' services: to run before every other and stop after them, so the last jobs' spans are sent.
    var services: [any Service]
    /// The metrics exporter's backend, for ``PixlAPI/PixlMetrics``; `nil` when metrics are not exported.
    var metrics: (any MetricsFactory)?

    /// Bootstraps the process's tracer and makes the metrics exporter, as `environment` asks; `nil` when it asks for
    /// neither.
    /// - Throws: ``ConfigurationError`` for a setting this build cannot honour (gRPC, another exporter than OTLP).
    static func bootstrap(environment: [String: String], logger: Logger) throws -> OTLPBackend? {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        if value("OTEL_SDK_DISABLED")?.lowercased() == "true" { return nil }
        let endpoint = value("OTEL_EXPORTER_OTLP_ENDPOINT")
        let traces = try signal("TRACES", endpoint: endpoint, value)
        let metrics = try signal("METRICS", endpoint: endpoint, value)
        guard traces || metrics else { return nil }
        var configuration = OTel.Configuration.default
        configuration.serviceName = "pixl-imaging"
        configuration.diagnosticLogger = .custom(logger)
        configuration.logs.enabled = false
        configuration.traces.enabled = traces
        configuration.metrics.enabled = metrics
        var backend = OTLPBackend(services: [], metrics: nil)
        do {
            // The exporters are made before the tracer is bootstrapped: their HTTP clients take the process's tracer
            // when they are made, and would otherwise trace their own exports as traces of their own.
            if metrics {
                let exporter = try OTel.makeMetricsBackend(configuration: configuration)
                backend.metrics = exporter.factory
                backend.services.append(exporter.service)
            }
            if traces {
                let tracing = try OTel.makeTracingBackend(configuration: configuration)
                InstrumentationSystem.bootstrap(tracing.factory)
                backend.services.append(tracing.service)
            }
        } catch {
            throw ConfigurationError(variable: "OTEL_EXPORTER_OTLP_*", problem: "cannot be used: \(error)")
        }
        logger.info("exporting over OTLP/HTTP", metadata: ["pixl.otel.traces": "\(traces)", "pixl.otel.metrics": "\(metrics)"])
        return backend
    }

    /// Whether a signal (`TRACES`, `METRICS`) is exported: it has an endpoint and its exporter is not `none`.
    /// - Throws: ``ConfigurationError`` for an exporter other than `otlp`, or gRPC (swift-otel stops the process with
    ///   `fatalError` on a gRPC exporter it was built without).
    private static func signal(_ name: String, endpoint: String?, _ value: (String) -> String?) throws -> Bool {
        guard endpoint ?? value("OTEL_EXPORTER_OTLP_\(name)_ENDPOINT") != nil else { return false }
        switch value("OTEL_\(name)_EXPORTER") {
        case nil, "otlp": break
        case "none": return false
        case let other?:
            throw ConfigurationError(variable: "OTEL_\(name)_EXPORTER", problem: "must be otlp or none, not '\(other.prefix(40))'")
        }
        let protocolVariable = ["OTEL_EXPORTER_OTLP_\(name)_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"].first { value($0) != nil }
        if let protocolVariable, value(protocolVariable) == "grpc" {
            throw ConfigurationError(variable: protocolVariable, problem: "must be http/protobuf or http/json: this build exports over HTTP only")
        }
        return true
    }
}
