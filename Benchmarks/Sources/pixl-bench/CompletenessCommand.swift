import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import PixlCore
import PixlImaging
import PixlOrthanc
import Synchronization

/// What the completeness check costs (scripts/bench-completeness): processes one message `runs` times
/// through the real pipeline against the lab and prints, as one JSON line, the time of each run, the
/// time of its steps (`completeness`, `retrieve`, `top_up`, `tag`), and the C-FINDs and C-MOVEs it sent.
struct CompletenessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "completeness",
        abstract: "Process one message N times through the pipeline; print times, step times, C-FINDs and C-MOVEs as JSON."
    )

    @Option(help: "A file holding one plain JSON message.")
    var message: String

    @Option(help: "How many times to process it.")
    var runs: Int = 1

    @Option(help: "A label for the JSON line.")
    var label: String = ""

    func run() async throws {
        let configuration = try PixlConfiguration(environment: try Environment.load())
        let message = try MessageDecoder.decode(try Data(contentsOf: URL(fileURLWithPath: message)))
        // As the service's: no response decompression.
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)
        let orthanc = CountingOrthanc(
            HTTPOrthancClient(
                httpClient: httpClient,
                configuration: .init(configuration.orthancRaw, requestTimeout: configuration.queryTimeout),
                logger: Logger(label: "pixl-bench")
            )
        )
        let steps = StepTimes()
        let pipeline = ArchivePipeline(orthanc: orthanc, configuration: .init(configuration), metrics: steps)
        var report = Report(label: label)
        let clock = ContinuousClock()
        for _ in 0..<max(runs, 1) {
            _ = orthanc.take()
            let started = clock.now
            let outcome = await pipeline.process(message, logger: Logger(label: "pixl-bench"))
            report.milliseconds.append((clock.now - started).inMilliseconds)
            report.counts.append(orthanc.take())
            report.state = outcome.state.rawValue
            report.reason = outcome.reason
            report.instances = outcome.studies.map(\.presentInstances).reduce(0, +)
        }
        report.stepMilliseconds = steps.medians()
        try await httpClient.shutdown()
        print(try jsonLine(report))
    }

    struct Report: Encodable {
        var label: String
        var state = ""
        var reason: String?
        var instances = 0
        var milliseconds: [Double] = []
        var counts: [CountingOrthanc<HTTPOrthancClient>.Counts] = []
        var stepMilliseconds: [String: Double] = [:]

        var median: Double { Figures.percentile(milliseconds.sorted(), 0.5) }

        enum CodingKeys: String, CodingKey {
            case label, state, reason, instances, median, counts
            case milliseconds = "runs_ms"
            case stepMilliseconds = "steps_median_ms"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(label, forKey: .label)
            try container.encode(state, forKey: .state)
            try container.encodeIfPresent(reason, forKey: .reason)
            try container.encode(instances, forKey: .instances)
            try container.encode((median * 10).rounded() / 10, forKey: .median)
            try container.encode(milliseconds.map { ($0 * 10).rounded() / 10 }, forKey: .milliseconds)
            try container.encode(counts.last, forKey: .counts)
            try container.encode(stepMilliseconds.mapValues { ($0 * 10).rounded() / 10 }, forKey: .stepMilliseconds)
        }
    }
}

/// Collects the pipeline's step times.
final class StepTimes: PipelineMetrics {
    private let durations = Mutex([String: [Double]]())

    func medians() -> [String: Double] {
        durations.withLock { $0.mapValues { Figures.percentile($0.sorted(), 0.5) } }
    }

    func recordStep(_ step: String, duration: Duration) {
        durations.withLock { $0[step, default: []].append(duration.inMilliseconds) }
    }

    func recordOrthancCall(_ operation: String, duration: Duration) {}
    func recordOrthancError(_ operation: String, kind: String) {}
    func recordRejectedMessage(source: String) {}
}
