import ArgumentParser

/// Benchmark tools for scripts/bench; not part of the service.
@main
struct PixlBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pixl-bench",
        abstract: "Benchmark helpers for scripts/bench.",
        subcommands: [
            LimitCommand.self, ServiceRunCommand.self, IntakeCommand.self, CompletenessCommand.self, ScaleFillCommand.self, ScaleStoreCommand.self,
            ScaleServiceCommand.self,
        ]
    )
}
