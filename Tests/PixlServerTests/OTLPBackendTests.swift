import Logging
import PixlCore
import Testing

@testable import PixlServer

/// When `serve` exports over OTLP: only with an endpoint, never with `OTEL_SDK_DISABLED=true`, and never with a setting
/// this build cannot honour. (The cases that bootstrap the process-wide tracer are the lab's `TracingLabTests`.)
struct OTLPBackendTests {
    let logger = Logger(label: "otlp-backend-tests")

    @Test(arguments: [
        [:],
        ["OTEL_EXPORTER_OTLP_ENDPOINT": ""],
        ["OTEL_SERVICE_NAME": "pixl", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"],
        ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_SDK_DISABLED": "true"],
        ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces", "OTEL_SDK_DISABLED": "TRUE"],
        ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_TRACES_EXPORTER": "none", "OTEL_METRICS_EXPORTER": "none"],
    ])
    func noEndpointOrDisabledMeansNoExport(_ environment: [String: String]) throws {
        #expect(try OTLPBackend.bootstrap(environment: environment, logger: logger) == nil)
    }

    @Test(arguments: [
        (["OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"], "OTEL_EXPORTER_OTLP_PROTOCOL"),
        (["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"], "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"),
        (["OTEL_TRACES_EXPORTER": "zipkin"], "OTEL_TRACES_EXPORTER"),
        (["OTEL_TRACES_EXPORTER": "console"], "OTEL_TRACES_EXPORTER"),
        (["OTEL_METRICS_EXPORTER": "prometheus"], "OTEL_METRICS_EXPORTER"),
        (["OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": "grpc", "OTEL_TRACES_EXPORTER": "none"], "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL"),
    ])
    func aSettingThisBuildCannotHonourIsRefusedNamingIt(_ settings: [String: String], variable: String) {
        var environment = settings
        environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:4318"
        #expect(throws: ConfigurationError.self) {
            do {
                _ = try OTLPBackend.bootstrap(environment: environment, logger: logger)
            } catch let error as ConfigurationError {
                #expect(error.variable == variable)
                throw error
            }
        }
    }
}
