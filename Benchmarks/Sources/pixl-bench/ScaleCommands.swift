import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import PixlCore
import PixlDatabase

/// Latencies in milliseconds: median and 99th percentile.
struct Latency: Encodable {
    let p50: Double
    let p99: Double

    init(_ durations: [Duration]) {
        let sorted = durations.map(\.inMilliseconds).sorted()
        p50 = Figures.percentile(sorted, 0.50)
        p99 = Figures.percentile(sorted, 0.99)
    }

    /// Times `body` `samples` times, one after another.
    static func measure(samples: Int, _ body: () async throws -> Void) async throws -> Latency {
        let clock = ContinuousClock()
        var durations: [Duration] = []
        for _ in 0..<samples { durations.append(try await clock.measure(body)) }
        return Latency(durations)
    }
}

/// `pixl-bench scale-store` (scripts/bench --scale): what the store's own calls cost at the size `scale-fill` left it.
/// Each sample of a claim enqueues one job, claims it (timed) and records it succeeded, so the claim finds exactly
/// one due job among the backlog. The claim is the primary lane's with the fair share's order of the fill's four
/// projects before the probe's: none has a due job, so it is the longest claim, every project seeked at every
/// priority. Then the idle loop's "when is the next job due", the counts of `/status` and the newest page of the listing.
struct ScaleStoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scale-store",
        abstract: "Time claims, next-due, counts and a page on the configured store; print JSON (scripts/bench --scale)."
    )

    @Option(help: "Samples per figure.")
    var samples = 200

    struct Report: Encodable {
        let claim_ms: Latency
        let next_due_ms: Latency
        let counts_ms: Latency
        let page_ms: Latency
    }

    /// The fill's projects (`scale-0` to `scale-3`), then the probe's.
    static let projectOrder = (0..<4).map { "scale-\($0)" } + ["scale-probe"]

    func run() async throws {
        let configuration = try DatabaseConfiguration(environment: ProcessInfo.processInfo.environment)
        var logger = Logger(label: "pixl-bench.scale")
        logger.logLevel = .warning
        let clock = ContinuousClock()
        let runID = UUID().uuidString.prefix(8)
        let report = try await Database.withJobStore(configuration, logger: logger) { store in
            var claims: [Duration] = []
            for sample in 0..<samples {
                var message = ImagingMessage.synthetic
                message.mrn = "PROBE-\(runID)-\(sample)"
                message.projectName = "scale-probe"
                _ = try await store.enqueue([message], now: Date())
                var claim: Claim?
                claims.append(try await clock.measure {
                    claim = try await store.claimNext(in: .primary, projectOrder: Self.projectOrder, now: Date(), lease: .seconds(60))
                })
                guard let claim else { throw BenchError("the probe job was not claimed") }
                try await store.record(JobResult(.succeeded(archive: .local, studies: [])), for: claim, now: Date())
            }
            return Report(
                claim_ms: Latency(claims),
                next_due_ms: try await Latency.measure(samples: samples) { _ = try await store.nextDueDate(in: .primary) },
                counts_ms: try await Latency.measure(samples: samples) { _ = try await store.counts() },
                page_ms: try await Latency.measure(samples: samples) { _ = try await store.jobs(matching: JobFilter(), from: .newest, limit: 100) }
            )
        }
        print(try jsonLine(report))
    }
}

/// `pixl-bench scale-service --url` (scripts/bench --scale): what a client of a running service waits for at the size
/// `scale-fill` left the store: `/status`, three listings (the newest page, a filtered one, one from a cursor half-way
/// down), and, with the service claiming and a slot free, how long a newly posted message waits to be claimed (its
/// `started_at` less its `created_at`, both the service's clock).
struct ScaleServiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scale-service",
        abstract: "Time /status, /messages pages and time-to-claim on a running service; print JSON (scripts/bench --scale)."
    )

    @Option(help: "The service's base URL.")
    var url = "http://127.0.0.1:8000"

    @Option(help: "Samples per HTTP figure.")
    var samples = 100

    @Option(help: "Messages posted one after another to time their claim.")
    var claims = 10

    struct Report: Encodable {
        let status_ms: Latency
        let messages_newest_ms: Latency
        let messages_filtered_ms: Latency
        let messages_deep_ms: Latency
        let time_to_claim_ms: Latency
    }

    func run() async throws {
        let service = ServiceClient(base: url)
        let status = try await service.get("/status") as? [String: Any]
        let total = (status?["counts"] as? [String: Int])?.values.reduce(0, +) ?? 0
        func timed(_ path: String) async throws -> Latency {
            try await Latency.measure(samples: samples) { try await service.fetch(path) }
        }
        let report = Report(
            status_ms: try await timed("/status"),
            messages_newest_ms: try await timed("/messages?limit=100"),
            messages_filtered_ms: try await timed("/messages?project=scale-2&state=deferred&limit=100"),
            messages_deep_ms: try await timed("/messages?limit=100&before=\(max(1, total / 2))"),
            time_to_claim_ms: try await timeToClaim(service)
        )
        print(try jsonLine(report))
    }

    /// Posts one message at a time (a study no archive holds: discarded after its C-FINDs) and reads when it was claimed.
    private func timeToClaim(_ service: ServiceClient) async throws -> Latency {
        let runID = UUID().uuidString.prefix(8)
        var waits: [Duration] = []
        for index in 0..<claims {
            let body = #"{"mrn":"CLAIM-\#(runID)-\#(index)","accession_number":"CA\#(index)","study_uid":"","study_date":"2024-01-02","procedure_occurrence_id":\#(index),"project_name":"scale-claim","extract_generated_timestamp":"2026-11-29T09:00:00+00:00"}"#
            guard let id = try await service.postMessages(Data(body.utf8)).first else { throw BenchError("POST /messages gave no job") }
            // Waits for the job to end, so that the next message finds a free slot: what is timed is the claim.
            let deadline = ContinuousClock.now + .seconds(60)
            while true {
                let job = try await service.get("/messages/\(id)") as? [String: Any]
                if let state = job?["state"] as? String, ["succeeded", "discarded", "failed"].contains(state),
                    let started = (job?["started_at"] as? String).flatMap(parseTimestamp),
                    let created = (job?["created_at"] as? String).flatMap(parseTimestamp)
                {
                    waits.append(.seconds(started.timeIntervalSince(created)))
                    break
                }
                guard ContinuousClock.now < deadline else { throw BenchError("job \(id) did not end within 60 s") }
                try await Task.sleep(for: .milliseconds(5))
            }
        }
        return Latency(waits)
    }
}
