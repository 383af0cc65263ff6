import ArgumentParser
import Foundation

/// Measures start-up: launches `serve` and times the first `200` from `/heart-beat`, polling every millisecond.
struct StartupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "startup",
        abstract: "Time from launching the service to its first answer on /heart-beat; prints JSON."
    )

    @Option(help: "The pixl-imaging binary.")
    var binary: String

    @Option(help: "The port serve listens on (PIXL_IMAGING_API_PORT in its environment).")
    var port = 8000

    @Option(help: "Launches to time.")
    var runs = 10

    func run() async throws {
        let service = ServiceClient(base: "http://127.0.0.1:\(port)")
        var times: [Duration] = []
        for _ in 0..<runs {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["serve"]
            process.standardError = FileHandle.nullDevice
            let clock = ContinuousClock()
            let started = clock.now
            try process.run()
            defer {
                process.terminate()
                process.waitUntilExit()
            }
            while (try? await service.get("/heart-beat")) == nil {
                guard clock.now - started < .seconds(30), process.isRunning else { throw BenchError("serve did not answer") }
                try await Task.sleep(for: .milliseconds(1))
            }
            times.append(clock.now - started)
        }
        let figures = Figures(durations: times, elapsed: .zero, concurrency: 1)
        print(#"{"runs":\#(runs),"p50_ms":\#(figures.p50Milliseconds),"max_ms":\#(Figures.percentile(times.map { $0.milliseconds }.sorted(), 1))}"#)
    }
}

extension Duration {
    var milliseconds: Double { Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15 }
}
