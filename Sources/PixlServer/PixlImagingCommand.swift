import ArgumentParser

@main
struct PixlImagingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pixl-imaging",
        abstract: "Pulls studies from the VNA and PACS into orthanc-raw, one message per study.",
        subcommands: [ServeCommand.self, ProcessCommand.self, SubmitCommand.self, ReportCommand.self, MigrateCommand.self, StoreCommand.self],
        defaultSubcommand: ServeCommand.self
    )
}
