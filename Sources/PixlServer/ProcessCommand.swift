import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import PixlAPI
import PixlCore
import PixlImaging
import PixlOrthanc

/// `pixl-imaging process FILE`: one message, processed at once with no rate limit (SPEC §8).
struct ProcessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "process",
        abstract: "Process one message now, with no rate limit, and print the outcome as one JSON object.",
        discussion: """
            FILE holds one message, as plain JSON or as PIXL's wire form ('-' reads standard input). \
            Exit status: 0 succeeded, 3 discarded, 4 deferred or retry, 1 failed or invalid input, \
            2 configuration error.
            """
    )

    @Argument(help: "The message file, or '-' for standard input.")
    var file: String

    func run() async throws {
        let (configuration, _) = try Startup.loadConfiguration()
        let logger = Logger(label: "pixl-imaging.process")
        let message: ImagingMessage
        do {
            let bytes = file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: file))
            message = try MessageDecoder.decode(bytes)
        } catch let error as MessageDecodingError {
            print(try ["detail": "invalid message: \(error)"].jsonLine())
            throw ExitCode(1)
        } catch {
            print(try ["detail": "cannot read \(file): \(error.localizedDescription)"].jsonLine())
            throw ExitCode(1)
        }

        // A client of its own: HTTPClient.shared decompresses, and fails on Orthanc's gzipped answers.
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)
        let orthanc = HTTPOrthancClient(
            httpClient: httpClient,
            configuration: .init(configuration.orthancRaw, requestTimeout: configuration.queryTimeout),
            logger: logger
        )
        let pipeline = ArchivePipeline(orthanc: orthanc, configuration: .init(configuration))
        let started = Date()
        let outcome = await Self.runOnce(pipeline, message: message, waitLimit: configuration.transferTimeout, logger: logger)
        try await httpClient.shutdown()

        let now = Date()
        let result = RetryPolicy(maxAttempts: configuration.maxAttempts).result(for: outcome, afterAttempt: 1, now: now)
        let job = Job(id: UUID(), message: message, state: .inProgress, attempts: 1, createdAt: started, updatedAt: started, startedAt: started)
            .applying(result, now: now)
        print(job.jsonText)
        switch result.state {
        case .succeeded: return
        case .discarded: throw ExitCode(3)
        case .deferred, .retry, .queued, .inProgress: throw ExitCode(4)
        case .failed: throw ExitCode(1)
        }
    }

    /// Waits out orthanc-raw's pending jobs (at most `waitLimit`), then processes the message.
    static func runOnce(
        _ pipeline: ArchivePipeline<HTTPOrthancClient>,
        message: ImagingMessage,
        waitLimit: Duration,
        logger: Logger
    ) async -> PipelineOutcome {
        let idle = await withTaskGroup(of: Bool.self) { group in
            group.addTask { (try? await pipeline.waitWhileOrthancIsBusy(logger: logger)) != nil }
            group.addTask {
                try? await Task.sleep(for: waitLimit)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        guard idle else { return .retry(reason: "orthanc-raw kept jobs pending") }
        return await pipeline.process(message, logger: logger)
    }
}
