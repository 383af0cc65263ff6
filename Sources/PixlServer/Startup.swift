import ArgumentParser
import Foundation
import Logging
import OTel
import PixlCore
import PixlDatabase

/// What every subcommand does first: read the configuration, stopping with one line naming the
/// variable when it is wrong (exit 2), and send logs to standard error at `LOG_LEVEL`.
enum Startup {
    static func loadConfiguration() throws -> (PixlConfiguration, Environment) {
        do {
            let environment = try Environment.load()
            let configuration = try PixlConfiguration(environment: environment)
            bootstrapLogging(level: configuration.logLevel)
            return (configuration, environment)
        } catch let error as ConfigurationError {
            throw configurationError(error)
        }
    }

    /// The database the environment names (`PIXL_DB_*`).
    static func databaseConfiguration(_ environment: Environment) throws -> DatabaseConfiguration {
        do {
            return try DatabaseConfiguration(environment: environment.values)
        } catch {
            throw configurationError(error)
        }
    }

    /// Runs a start-up step; a configuration or database error stops the command with its one line (exit 2).
    static func stopOnError<Result>(_ step: () async throws -> Result) async throws -> Result {
        do {
            return try await step()
        } catch let error as ConfigurationError {
            throw configurationError(error)
        } catch let error as DatabaseError {
            throw configurationError(error)
        }
    }

    /// Lines logged within a span carry its `trace_id` and `span_id` (OpenTelemetry's metadata provider; nothing
    /// without a tracer), so that a job's log lines are found from its trace and the other way round.
    static func bootstrapLogging(level: Logger.Level) {
        LoggingSystem.bootstrap(
            { label, metadataProvider in
                var handler = StreamLogHandler.standardError(label: label, metadataProvider: metadataProvider)
                handler.logLevel = level
                return handler
            },
            metadataProvider: OTel.makeLoggingMetadataProvider()
        )
    }

    private static func configurationError(_ error: any Error) -> ExitCode {
        FileHandle.standardError.write(Data("pixl-imaging: configuration error: \(error)\n".utf8))
        return ExitCode(2)
    }
}

extension Encodable {
    /// One line of JSON with sorted keys, for printing on standard output.
    func jsonLine() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
