import Logging
import OTel
import PixlCore
import ServiceLifecycle
import Tracing

/// The tracer of `serve`: OpenTelemetry (swift-otel) exporting spans over OTLP/HTTP, as PIXL's later versions do.
///
/// It exists only when an endpoint is set (`OTEL_EXPORTER_OTLP_ENDPOINT`, or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`)
/// and `OTEL_SDK_DISABLED` is not `true`: otherwise no tracer is bootstrapped, nothing is exported and no connection
/// is tried (swift-otel alone would send to localhost:4318). swift-otel reads the `OTEL_*` variables from the process
/// environment itself, as every OpenTelemetry SDK does (not from `.env`); the service name defaults to
/// `pixl-imaging`. Only traces: the logging and metrics systems stay the service's (standard error, Prometheus).
enum TracingBackend {
    /// Bootstraps the process's tracer when `environment` asks for traces, and returns the service that exports its
    /// spans (to run before every other and stop after them, so the last jobs' spans are sent); `nil` otherwise.
    /// - Throws: ``ConfigurationError`` for a setting this build cannot honour (gRPC, another exporter than OTLP).
    static func bootstrap(environment: [String: String], logger: Logger) throws -> (any Service)? {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        if value("OTEL_SDK_DISABLED")?.lowercased() == "true" { return nil }
        guard (value("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") ?? value("OTEL_EXPORTER_OTLP_ENDPOINT")) != nil else { return nil }
        switch value("OTEL_TRACES_EXPORTER") {
        case nil, "otlp": break
        case "none": return nil
        case let other?:
            throw ConfigurationError(variable: "OTEL_TRACES_EXPORTER", problem: "must be otlp or none, not '\(other.prefix(40))'")
        }
        // swift-otel stops the process (fatalError) on a gRPC exporter it was built without.
        let protocolVariable = ["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"].first { value($0) != nil }
        if let protocolVariable, value(protocolVariable) == "grpc" {
            throw ConfigurationError(variable: protocolVariable, problem: "must be http/protobuf or http/json: this build exports over HTTP only")
        }
        var configuration = OTel.Configuration.default
        configuration.serviceName = "pixl-imaging"
        configuration.diagnosticLogger = .custom(logger)
        configuration.logs.enabled = false
        configuration.metrics.enabled = false
        do {
            let backend = try OTel.makeTracingBackend(configuration: configuration)
            InstrumentationSystem.bootstrap(backend.factory)
            logger.info("exporting traces over OTLP/HTTP")
            return backend.service
        } catch {
            throw ConfigurationError(variable: "OTEL_EXPORTER_OTLP_*", problem: "cannot be used: \(error)")
        }
    }
}
