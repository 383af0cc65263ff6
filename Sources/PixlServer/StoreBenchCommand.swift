import ArgumentParser
import Foundation
import Logging
import PixlCore
import PixlDatabase
import PostgresNIO

extension StoreCommand {
    /// `pixl-imaging store bench` (scripts/bench-store): throughput of enqueue (batches and single) and claim + record,
    /// median of several runs on fresh databases of the configured backend.
    struct Bench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measures enqueue and claim+record throughput on the configured backend (median of --runs)."
        )
        @Option(help: "Runs per measurement.") var runs: Int = 5
        @Option(help: "Jobs enqueued in batches, then claimed, per run.") var jobs: Int = 2000
        @Option(help: "Jobs enqueued one at a time per run.") var singles: Int = 500
        @Option(help: "Batch size.") var batch: Int = 100

        func run() async throws {
            let base = try DatabaseConfiguration(environment: ProcessInfo.processInfo.environment)
            var logger = Logger(label: "pixl-bench.store")
            logger.logLevel = .warning
            var batched: [Double] = []
            var single: [Double] = []
            var claimed: [Double] = []
            for run in 0..<runs {
                var configuration = base
                let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("pixl-bench-\(UUID().uuidString)")
                switch base.backend {
                case .sqlite:
                    try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
                    configuration.backend = .sqlite(path: scratch.appendingPathComponent("bench.sqlite").path)
                case .postgres:
                    configuration.schema = "bench_\(ProcessInfo.processInfo.processIdentifier)_\(run)"
                }
                defer { try? FileManager.default.removeItem(at: scratch) }
                try await Database.migrate(configuration, logger: logger)
                try await Database.withJobStore(configuration, logger: logger) { store in
                    let messages = syntheticMessages(prefix: "B\(run)", range: 0..<jobs, project: "bench")
                    let clock = ContinuousClock()
                    var elapsed = try await clock.measure {
                        var start = 0
                        while start < messages.count {
                            let end = min(start + batch, messages.count)
                            _ = try await store.enqueue(Array(messages[start..<end]), now: Date())
                            start = end
                        }
                    }
                    batched.append(Double(jobs) / elapsed.seconds)

                    let singleMessages = syntheticMessages(prefix: "S\(run)", range: 0..<singles, project: "bench-single")
                    elapsed = try await clock.measure {
                        for message in singleMessages { _ = try await store.enqueue([message], now: Date()) }
                    }
                    single.append(Double(singles) / elapsed.seconds)

                    let total = jobs + singles
                    var count = 0
                    elapsed = try await clock.measure {
                        while let claim = try await store.claimNext(in: .primary, now: Date(), lease: .seconds(60)) {
                            try await store.record(JobResult(.succeeded(archive: .primary, studies: [.pulled(for: claim.job)])), for: claim, now: Date())
                            count += 1
                        }
                    }
                    precondition(count == total, "claimed \(count) of \(total)")
                    claimed.append(Double(total) / elapsed.seconds)
                }
                if case .postgres(let server) = base.backend {
                    _ = try await Database.withPostgresClient(server, retryFor: .seconds(5), logger: logger) { client in
                        try await client.query("DROP SCHEMA \(unescaped: configuration.schema) CASCADE")
                    }
                }
            }
            let backend = if case .postgres = base.backend { "postgres" } else { "sqlite" }
            emit("backend: \(backend), runs: \(runs), jobs per run: \(jobs) batched (\(batch) per call) + \(singles) single")
            emit("enqueue, batches of \(batch): median \(format([median(batched)])) jobs/s  (runs: \(format(batched)))")
            emit("enqueue, one per call:   median \(format([median(single)])) jobs/s  (runs: \(format(single)))")
            emit("claim + record:          median \(format([median(claimed)])) jobs/s  (runs: \(format(claimed)))")
        }

        func median(_ values: [Double]) -> Double {
            let sorted = values.sorted()
            guard !sorted.isEmpty else { return 0 }
            return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        }

        func format(_ values: [Double]) -> String {
            values.map { String(Int($0.rounded())) }.joined(separator: ", ")
        }
}
}
