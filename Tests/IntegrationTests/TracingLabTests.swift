import Foundation
import PixlTesting
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension LabSuites {
    /// OpenTelemetry (issue 14): the real `pixl-imaging serve` against the lab, exporting over OTLP/HTTP to a real
    /// receiver (`scripts/otlp-receiver.py`, decoding with opentelemetry-proto). A message posted with a `traceparent`
    /// runs as a job whose span continues that trace, with the claim's and the pipeline's steps and every Orthanc call
    /// under it; SIGTERM sends the last spans before the process exits.
    @Suite(.serialized, .timeLimit(.minutes(3)))
    struct TracingLabTests {
        let lab: Lab
        let directory: URL
        var database: URL { directory.appendingPathComponent("pixl-imaging.sqlite") }

        /// The sender's trace and span, as W3C's examples write them.
        static let traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
        static let parentSpanID = "00f067aa0ba902b7"
        static let headers = [("traceparent", "00-\(traceID)-\(parentSpanID)-01"), ("tracestate", "congo=t61rcWkgMzE")]

        init() throws {
            lab = try Lab.current()
            try lab.reset()
            directory = try ServeProcess.temporaryDirectory()
        }

        /// Runs the VNA's single-series study through `serve` exporting to `receiver`, posted with ``headers``, then stops
        /// `serve` with SIGTERM; what `serve` logged.
        func runOneJob(exportingTo receiver: OTLPReceiver, _ overrides: [String: String] = [:]) async throws -> String {
            var settings = ["PIXL_IMAGING_API_RATE": "10", "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "OTEL_METRIC_EXPORT_INTERVAL": "500"]
            settings.merge(overrides) { _, new in new }
            let serve = try await ServeProcess(lab: lab, database: database, directory: directory, overrides: settings)
            defer { serve.kill() }
            let ids = try await serve.post(messages: [try lab.plainMessage("vna-single", project: "otel")], headers: Self.headers)
            let jobs = try await serve.waitForJobs(ids)
            #expect(jobs.first?["state"] as? String == "succeeded", "\(jobs)")
            #expect(await serve.signal(SIGTERM, waitingUpTo: .seconds(30)) == 0, "\(serve.logTail())")
            return (try? String(contentsOf: serve.logFile, encoding: .utf8)) ?? ""
        }

        @Test func theJobContinuesThePostedTraceWithItsStepsAndOrthancCallsUnderIt() async throws {
            let receiver = try OTLPReceiver(directory: directory)
            defer { receiver.kill() }
            let log = try await runOneJob(exportingTo: receiver)

            let spans = try receiver.spans()
            let job = try #require(spans.first { $0.name == "job" }, "spans received: \(spans.map(\.name))")
            #expect(job.traceID == Self.traceID && job.parentSpanID == Self.parentSpanID, "\(job)")
            #expect(job.serviceName == "pixl-imaging")
            #expect(job.attributes["pixl.project"] as? String == "otel")
            #expect(job.attributes["pixl.lane"] as? String == "primary" && job.attributes["pixl.archive"] as? String == "primary")
            #expect(job.attributes["pixl.job.state"] as? String == "succeeded" && job.statusCode != 2)

            // Nothing outside the trace (no span of its own for back-pressure's look at orthanc-raw), and every span of
            // it under the job's.
            #expect(spans.allSatisfy { $0.traceID == Self.traceID }, "\(spans.filter { $0.traceID != Self.traceID }.map(\.name))")
            let byID = Dictionary(spans.map { ($0.spanID, $0) }, uniquingKeysWith: { first, _ in first })
            func isUnderTheJob(_ span: OTLPReceiver.Span) -> Bool {
                var parent = span.parentSpanID
                for _ in 0..<16 {
                    if parent == job.spanID { return true }
                    guard let next = byID[parent] else { return false }
                    parent = next.parentSpanID
                }
                return false
            }
            let others = spans.filter { $0.spanID != job.spanID }
            #expect(others.allSatisfy(isUnderTheJob), "\(others.filter { !isUnderTheJob($0) }.map(\.name))")

            // The claim's steps and the pipeline's, each named and carrying its step; the Orthanc calls by route template.
            let names = Set(others.map(\.name))
            let steps: Set = ["back_pressure", "rate_gate", "find_local", "query_primary", "completeness", "retrieve", "tag"]
            #expect(steps.isSubset(of: names), "\(names.sorted())")
            for span in others where steps.contains(span.name) {
                #expect(span.attributes["pixl.step"] as? String == span.name)
            }
            let query = try #require(others.first { $0.name == "POST /modalities/{modality}/query" }, "\(names.sorted())")
            #expect(byID[query.parentSpanID]?.name == "query_primary")
            #expect(others.first { $0.name == "find_local" }?.parentSpanID == job.spanID)
            let move = try #require(others.first { $0.name.hasPrefix("POST /queries/") && $0.name.hasSuffix("/retrieve") })
            let moveJob = try #require(move.attributes["pixl.orthanc.job"] as? String)
            #expect(others.contains { $0.name == "GET /jobs/{id}" && $0.attributes["pixl.orthanc.job"] as? String == moveJob })

            // No patient identifier anywhere in what was exported.
            let study = try #require(lab.studies["vna-single"])
            let exported = receiver.lines().joined(separator: "\n")
            #expect(!exported.contains(study.mrn) && !exported.contains(study.accession_number))

            // The job metrics, exported too (the last export when serve stopped).
            let metrics = receiver.metricNames()
            #expect(metrics.isSuperset(of: ["pixl_job_outcomes_total", "pixl_pipeline_step_duration_seconds"]), "\(metrics.sorted())")

            // The job's log lines carry its trace.
            let recorded = log.split(separator: "\n").filter { $0.contains("job succeeded") }
            #expect(recorded.count == 1 && recorded.allSatisfy { $0.contains("trace_id=\(Self.traceID)") }, "\(recorded)")
        }

        @Test func withTheSDKDisabledNothingIsExported() async throws {
            let receiver = try OTLPReceiver(directory: directory)
            defer { receiver.kill() }
            let log = try await runOneJob(exportingTo: receiver, ["OTEL_SDK_DISABLED": "true"])
            // serve has exited: whatever it would have sent has arrived.
            #expect(receiver.lines().isEmpty, "\(receiver.lines())")
            #expect(!log.contains("trace_id="))
        }
    }
}
