import ArgumentParser
import Foundation
import Logging
import PixlCore
import PixlDatabase

/// `pixl-imaging store` (hidden): drives the job store from a separate OS process, for the store's
/// multi-process tests (concurrent claims, kill -9 while holding a lease, killed mid-enqueue) and its benchmark.
///
/// The database comes from the environment as for `serve` (PIXL_DB_HOST… or PIXL_DB_PATH, PIXL_DB_SCHEMA).
struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Drives the job store from the command line (the store's multi-process tests, scripts/bench-store).",
        shouldDisplay: false,
        subcommands: [Migrate.self, Enqueue.self, ClaimAll.self, ClaimOne.self, Bench.self]
    )
}

struct StoreOptions: ParsableArguments {
    @Option(help: "Log level (default: warning).")
    var logLevel: String = "warning"

    func logger() -> Logger {
        var logger = Logger(label: "pixl.store")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .warning
        return logger
    }

    func configuration() throws -> DatabaseConfiguration {
        try DatabaseConfiguration(environment: ProcessInfo.processInfo.environment)
    }
}

/// Writes a line to stdout at once (the parent test reads it while this process still runs).
func emit(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

extension StudyRecord {
    /// A study as the pipeline would record it for `job`: one series of one instance, all of it pulled.
    static func pulled(for job: Job) -> StudyRecord {
        StudyRecord(
            orthancID: "orthanc-\(job.id.uuidString.lowercased())", studyInstanceUID: job.message.studyUID, archive: .primary,
            expectedInstances: 1, presentInstances: 1,
            series: [SeriesRecord(seriesInstanceUID: job.message.studyUID + ".1", expectedInstances: 1, presentInstances: 1)]
        )
    }
}

/// Synthetic messages, unique per `prefix` and index.
func syntheticMessages(prefix: String, range: Range<Int>, project: String) -> [ImagingMessage] {
    range.map { index in
        ImagingMessage(
            mrn: "\(prefix)M\(index)",
            accessionNumber: "\(prefix)A\(index)",
            studyUID: "1.2.826.0.1.\(prefix.utf8.reduce(0) { $0 &+ Int($1) }).\(index)",
            studyDate: CalendarDate(year: 2024, month: 1, day: 1 + index % 28)!,
            procedureOccurrenceID: Int64(index),
            projectName: project,
            extractGeneratedTimestamp: ExtractTimestamp(date: CalendarDate(year: 2024, month: 2, day: 1)!, hour: 12)!
        )
    }
}

extension StoreCommand {
    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Upgrades the database to head.")
        @OptionGroup var options: StoreOptions

        func run() async throws {
            let report = try await Database.migrate(try options.configuration(), logger: options.logger())
            emit("migrated \(report.from ?? "-") -> \(report.to ?? "-")")
        }
    }

    struct Enqueue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enqueues synthetic messages; prints 'started' first, 'enqueued N' last.")
        @OptionGroup var options: StoreOptions
        @Option(help: "How many messages.") var count: Int = 1000
        @Option(help: "Messages per enqueue call (one transaction each).") var batch: Int = 100
        @Option(help: "Prefix making the identifiers unique.") var prefix: String = "W"
        @Option(help: "Project name.") var project: String = "workbench"

        func run() async throws {
            let messages = syntheticMessages(prefix: prefix, range: 0..<count, project: project)
            try await Database.withJobStore(try options.configuration(), logger: options.logger()) { store in
                emit("started")
                var total = 0
                var start = 0
                while start < messages.count {
                    let end = min(start + max(1, batch), messages.count)
                    total += try await store.enqueue(Array(messages[start..<end]), now: Date()).count
                    start = end
                }
                emit("enqueued \(total)")
            }
        }
    }

    struct ClaimAll: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Claims due jobs until none is left, recording each as succeeded; prints each claimed id."
        )
        @OptionGroup var options: StoreOptions
        @Option(help: "Lease in seconds.") var leaseSeconds: Double = 60

        func run() async throws {
            try await Database.withJobStore(try options.configuration(), logger: options.logger()) { store in
                while let claim = try await store.claimNext(in: .primary, now: Date(), lease: .milliseconds(Int64(leaseSeconds * 1000))) {
                    emit(claim.job.id.uuidString)
                    try await store.record(JobResult(.succeeded(archive: .primary, studies: [.pulled(for: claim.job)])), for: claim, now: Date())
                }
                emit("done")
            }
        }
    }

    struct ClaimOne: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Claims one job, prints its id, then waits to be killed.")
        @OptionGroup var options: StoreOptions
        @Option(help: "Lease in seconds.") var leaseSeconds: Double = 2

        func run() async throws {
            try await Database.withJobStore(try options.configuration(), logger: options.logger()) { store in
                guard let job = try await store.claimNext(in: .primary, now: Date(), lease: .milliseconds(Int64(leaseSeconds * 1000)))?.job else {
                    emit("none")
                    return
                }
                emit(job.id.uuidString)
                try await Task.sleep(for: .seconds(3600))
            }
        }
    }
}
