import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import PixlAPI
import PixlCore
import PixlDatabase
@testable import PixlImaging
import PixlOrthanc
import PixlService
import PixlTesting
import Testing

extension LabSuites {
    /// What a slow, a cut and a dead archive look like from the service's side, against the real lab: a
    /// ``DelayProxy`` in front of the VNA's DICOM port, known to orthanc-raw as a modality of its own
    /// (``modality``, same AE title as the VNA), queried and moved from with the service's own client. Each test
    /// removes the modality and stops the proxy, whatever happens. The facts measured are printed (`fact:` lines).
    @Suite(.serialized, .timeLimit(.minutes(3)))
    struct DelayProxyLabTests {
        static let modality = "LAB-DELAY-PROXY"
        let lab: Lab
        let logger = Logger(label: "delay-proxy-lab-tests")

        init() throws {
            lab = try Lab.current()
            try lab.reset()
        }

        // MARK: C-FIND

        /// Each association's answers held 300 ms a chunk: a study-level C-FIND takes at least that much longer.
        @Test func delayedAnswersSlowAStudyLevelFindByAtLeastTheDelay() async throws {
            let study = try #require(lab.studies["vna-single"])
            let keys = ["StudyInstanceUID": study.study_uid, "PatientID": "", "AccessionNumber": ""]
            try await withProxy { proxy, client in
                func fastest(of count: Int, through modality: String) async throws -> Duration {
                    var times: [Duration] = []
                    for _ in 0..<count {
                        let started = ContinuousClock.now
                        let result = try await client.query(.study, modality: modality, keys: keys)
                        times.append(ContinuousClock.now - started)
                        #expect(result.answers.map(\.studyInstanceUID) == [study.study_uid])
                    }
                    return times.min()!
                }
                let direct = try await fastest(of: 3, through: lab.environment["PRIMARY_DICOM_SOURCE_MODALITY"]!)
                let undelayed = try await fastest(of: 3, through: Self.modality)
                #expect(proxy.acceptedConnections == 3)
                proxy.delay = .milliseconds(300)
                let delayed = try await fastest(of: 3, through: Self.modality)
                #expect(proxy.acceptedConnections == 6)
                #expect(delayed - undelayed >= .milliseconds(300), "\(delayed) against \(undelayed)")
                fact("study C-FIND, fastest of 3: direct \(ms(direct)), through the proxy \(ms(undelayed)), 300 ms a chunk \(ms(delayed))")
            }
        }

        /// Cut, the proxy accepts the association's connection and closes it at once: orthanc-raw answers 500 at
        /// once, which the client gives as a transient `serverError`; restored, the same query answers again.
        @Test func cutProxyFailsTheFindWithHTTP500UntilRestored() async throws {
            let study = try #require(lab.studies["vna-single"])
            let keys = ["StudyInstanceUID": study.study_uid]
            try await withProxy { proxy, client in
                proxy.cut()
                let started = ContinuousClock.now
                let error = try await #require(throws: OrthancError.self) { try await client.query(.study, modality: Self.modality, keys: keys) }
                let elapsed = ContinuousClock.now - started
                #expect(error.code == .serverError && error.status == 500 && error.isTransient, "\(error.debugDescription)")
                let answer = try Self.orthancError(error)
                #expect(answer["OrthancStatus"] as? Int == 9 && answer["Message"] as? String == "Error in the network protocol")
                #expect(answer["Details"] as? String == "DicomAssociation - connecting to AET \"VNAQR\": Peer aborted Association (or never connected)")
                #expect(proxy.refusedConnections >= 1 && proxy.acceptedConnections == 0)
                fact("C-FIND through the cut proxy: \(error) in \(ms(elapsed)), \(proxy.refusedConnections) connection(s) refused; \(Self.summary(answer))")

                proxy.restore()
                #expect(try await client.query(.study, modality: Self.modality, keys: keys).answers.count == 1)
                #expect(proxy.acceptedConnections == 1)
            }
        }

        /// Cut once the association is accepted, while the C-FIND's answers are held (1 s a chunk): the
        /// association is aborted under orthanc-raw, which answers 500 at once.
        @Test func cutDuringAFindFailsItWithHTTP500() async throws {
            let study = try #require(lab.studies["vna-single"])
            try await withProxy { proxy, client in
                proxy.delay = .seconds(1)
                let query = Task { try await client.query(.study, modality: Self.modality, keys: ["StudyInstanceUID": study.study_uid]) }
                try await until("the VNA accepted the association") { proxy.forwardedChunks >= 1 }
                let cut = ContinuousClock.now
                proxy.cut()
                let error = try await #require(throws: OrthancError.self) { try await query.value }
                #expect(error.code == .serverError && error.status == 500, "\(error.debugDescription)")
                let answer = try Self.orthancError(error)
                #expect(answer["OrthancStatus"] as? Int == 9)
                #expect(answer["Details"] as? String == "DicomAssociation - C-FIND to AET \"VNAQR\": Peer aborted Association (or never connected)")
                fact("C-FIND cut after the association was accepted: \(error) \(ms(ContinuousClock.now - cut)) after the cut; \(Self.summary(answer))")
            }
        }

        /// An association accepted but never answered (a server that hangs): orthanc-raw gives up after its
        /// `DicomScuTimeout` (10 s in the lab) and answers 500, to a client whose deadline is longer (30 s). The
        /// service's own client, its deadline the default PIXL_QUERY_TIMEOUT (also 10 s), races that answer: it
        /// ends with `timeout` or that 500, transient either way.
        @Test func unansweredAssociationFailsAfterDicomScuTimeout() async throws {
            let config = try JSONSerialization.jsonObject(with: Data(contentsOf: Lab.directory.appendingPathComponent("raw/config.json"))) as? [String: Any]
            let scuTimeout = Duration.seconds(try #require(config?["DicomScuTimeout"] as? Int))
            let study = try #require(lab.studies["vna-single"])
            let service = try lab.configuration()
            let serviceClient = HTTPOrthancClient(
                httpClient: lab.http, configuration: .init(service.orthancRaw, requestTimeout: service.queryTimeout), logger: logger
            )
            try await withProxy { proxy, client in
                proxy.firstByteDelay = .seconds(60)
                let keys = ["StudyInstanceUID": study.study_uid]
                /// The query's error and how long it took.
                @Sendable func failure(_ client: HTTPOrthancClient) async -> (OrthancError?, Duration) {
                    let started = ContinuousClock.now
                    do {
                        _ = try await client.query(.study, modality: Self.modality, keys: keys)
                        return (nil, ContinuousClock.now - started)
                    } catch {
                        return (error as? OrthancError, ContinuousClock.now - started)
                    }
                }
                async let patient = failure(client)
                async let hurried = failure(serviceClient)
                let (error, elapsed) = await patient
                let (serviceError, serviceElapsed) = await hurried

                let orthancError = try #require(error)
                #expect(orthancError.code == .serverError && orthancError.status == 500, "\(orthancError.debugDescription)")
                let answer = try Self.orthancError(orthancError)
                #expect(answer["Details"] as? String == "DicomAssociation - connecting to AET \"VNAQR\": DUL network read timeout")
                #expect(elapsed >= scuTimeout && elapsed < scuTimeout + .seconds(5), "\(elapsed)")
                fact("C-FIND never answered: \(orthancError) after \(ms(elapsed)) (DicomScuTimeout \(scuTimeout)); \(Self.summary(answer))")

                let raced = try #require(serviceError)
                #expect(raced.isTransient && [.timeout, .serverError].contains(raced.code), "\(raced.debugDescription)")
                fact("the same with PIXL_QUERY_TIMEOUT \(service.queryTimeout): \(raced.debugDescription) after \(ms(serviceElapsed))")
            }
        }

        /// The PACS killed (SIGKILL): nothing listens on its port, and orthanc-raw answers 500 at once (no timeout).
        @Test func killedPACSFailsTheFindAtOnceWithHTTP500() async throws {
            let study = try #require(lab.studies["pacs-online"])
            let client = try client()
            try lab.script("stop", "pacs", "--kill")
            defer { try? lab.script("start", "pacs") }
            let started = ContinuousClock.now
            let error = try await #require(throws: OrthancError.self) {
                try await client.query(.study, modality: lab.environment["SECONDARY_DICOM_SOURCE_MODALITY"]!, keys: ["StudyInstanceUID": study.study_uid])
            }
            let elapsed = ContinuousClock.now - started
            #expect(error.code == .serverError && error.status == 500 && error.isTransient, "\(error.debugDescription)")
            let answer = try Self.orthancError(error)
            #expect(answer["OrthancStatus"] as? Int == 9)
            #expect(answer["Details"] as? String == "DicomAssociation - connecting to AET \"PACSQR\": TCP Initialization Error: Connection refused")
            #expect(elapsed < .seconds(2), "\(elapsed)")
            fact("C-FIND to the killed PACS: \(error) in \(ms(elapsed)); \(Self.summary(answer))")
        }

        // MARK: C-MOVE

        /// vna-large's C-MOVE, its responses held 1 s a chunk, cut once instances have started arriving in raw:
        /// orthanc-raw's job fails, and the pipeline takes it as `.unfinished` (tried again later), not `.refused`.
        @Test func moveCutMidwayFailsTheJobAsUnfinished() async throws {
            let large = try #require(lab.studies["vna-large"])
            let pipeline = try lab.pipeline()
            try await withProxy { proxy, client in
                let query = try await client.query(.study, modality: Self.modality, keys: ["StudyInstanceUID": large.study_uid])
                #expect(query.answers.count == 1)
                proxy.delay = .seconds(1)
                let failuresBefore = try vnaMoveFailures()
                let job = try await client.retrieve(queryID: query.id, targetAET: lab.environment["ORTHANC_RAW_AE_TITLE"]!)
                try await until("raw is receiving vna-large") {
                    guard try await client.job(id: job)?.state == .running else { return false }
                    return try await rawInstanceCount(large.orthanc_study_id!) > 0
                }
                let atCut = try await rawInstanceCount(large.orthanc_study_id!)
                let cut = ContinuousClock.now
                proxy.cut()
                let result = try await pipeline.followMove(job, from: ArchiveSource(archive: .primary, modality: Self.modality), logger: logger)
                let ended = ContinuousClock.now - cut
                let atFailure = try await rawInstanceCount(large.orthanc_study_id!)
                let details = try await expectFailure(of: job, result: result)
                // The VNA stops at its next pending response, which meets the closed connection (unless it had sent everything).
                try await until("the VNA gave the move up, or sent everything") {
                    if try vnaMoveFailures() > failuresBefore { return true }
                    return try await rawInstanceCount(large.orthanc_study_id!) == large.instance_count
                }
                let atEnd = try await rawInstanceCount(large.orthanc_study_id!)
                fact(
                    "C-MOVE cut mid-way: job failed \(ms(ended)) after the cut; \(details); raw held \(atCut) of \(large.instance_count) "
                        + "instances at the cut, \(atFailure) when the job failed, \(atEnd) once the VNA gave up "
                        + "(\(try vnaMoveFailures() - failuresBefore) \"Move SCP Failed\" in its log); pipeline: \(result)"
                )
            }
        }

        /// A C-MOVE from a query answered through the proxy, started once it is cut: the job fails at the association.
        @Test func moveStartedAfterTheCutFailsTheJobAsUnfinished() async throws {
            let single = try #require(lab.studies["vna-single"])
            let pipeline = try lab.pipeline()
            try await withProxy { proxy, client in
                let query = try await client.query(.study, modality: Self.modality, keys: ["StudyInstanceUID": single.study_uid])
                #expect(query.answers.count == 1)
                proxy.cut()
                let started = ContinuousClock.now
                let job = try await client.retrieve(queryID: query.id, targetAET: lab.environment["ORTHANC_RAW_AE_TITLE"]!)
                let result = try await pipeline.followMove(job, from: ArchiveSource(archive: .primary, modality: Self.modality), logger: logger)
                let elapsed = ContinuousClock.now - started
                let details = try await expectFailure(of: job, result: result)
                #expect(details.contains("Peer aborted Association (or never connected)"), "\(details)")
                #expect(try await rawInstanceCount(single.orthanc_study_id!) == 0)
                fact("C-MOVE after the cut: job failed \(ms(elapsed)) after it started; \(details); pipeline: \(result)")
            }
        }

        // MARK: The adaptive rate (issue 13)

        /// The service in process, its primary lane adaptive (C-FIND target 0.5 s, configured rate 4), pulling from the
        /// VNA through the proxy: while each answer is held 300 ms a chunk (a C-FIND takes about 0.9 s) the lane's rate
        /// halves; once the delay is lifted, the rate climbs back to the configured 4, and never above it.
        @Test func theAdaptiveRateHalvesWhileTheVNAIsSlowAndRecoversAfter() async throws {
            let messages = try lab.seedBench(16).map { $0.merging(["project_name": "adaptive"]) { _, new in new } }
            let (slow, fast) = (try JSONSerialization.data(withJSONObject: Array(messages.prefix(4))), try JSONSerialization.data(withJSONObject: Array(messages.dropFirst(4))))
            let directory = try ServeProcess.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            try await withProxy { proxy, _ in
                proxy.delay = .milliseconds(300)
                let events = JobEvents()
                let recorder = JobEventRecorder(events)
                let app = try await buildApplication(
                    configuration: try lab.configuration([
                        "PRIMARY_DICOM_SOURCE_MODALITY": Self.modality, "SECONDARY_DICOM_SOURCE_MODALITY": "", "PIXL_IMAGING_API_RATE": "4",
                        "PIXL_IMAGING_API_PORT": "0", "PIXL_PRIMARY_ADAPTIVE": "true", "PIXL_PRIMARY_FIND_TARGET": "0.5",
                    ]),
                    database: DatabaseConfiguration(backend: .sqlite(path: directory.appendingPathComponent("adaptive.sqlite").path)),
                    metrics: PixlMetrics(),
                    events: events,
                    logger: logger
                )
                try await app.test(.router) { client in
                    func post(_ body: Data) async throws -> [UUID] {
                        let response = try await client.execute(
                            uri: "/messages", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(data: body)
                        )
                        let jobs = try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any]
                        return try #require(jobs?["jobs"] as? [[String: Any]]).compactMap { ($0["id"] as? String).flatMap(UUID.init(uuidString:)) }
                    }
                    func primaryRate() async throws -> Double {
                        let response = try await client.execute(uri: "/lanes", method: .get)
                        let lanes = try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any]
                        let primary = try #require((lanes?["lanes"] as? [[String: Any]])?.first { $0["lane"] as? String == "primary" })
                        #expect(primary["configured_rate"] as? Double == 4 && primary["adaptive"] as? Bool == true)
                        return try #require(primary["rate"] as? Double)
                    }
                    var ids = try await post(slow)
                    try await until("the slow VNA halves the rate") { try await primaryRate() <= 2 }
                    for id in ids { #expect(await recorder.finished(id).state == .succeeded) }
                    let lowest = try await primaryRate()
                    fact("adaptive rate while every C-FIND took about 0.9 s: \(lowest) per second (configured 4)")

                    proxy.delay = .zero
                    ids = try await post(fast)
                    for id in ids { #expect(await recorder.finished(id).state == .succeeded) }
                    try await until("the rate recovers") { try await primaryRate() == 4 }
                }
                #expect(proxy.acceptedConnections > 0, "the service queried the VNA through the proxy")
            }
        }

        // MARK: Support

        /// orthanc-raw's job ended in `Failure` with code 9, and the pipeline calls it unfinished: the job's error, printed.
        func expectFailure(of job: String, result: ArchivePipeline<HTTPOrthancClient>.MoveResult) async throws -> String {
            let answer = try #require(try await lab.raw("/jobs/\(job)") as? [String: Any])
            #expect(answer["State"] as? String == "Failure")
            #expect(answer["ErrorCode"] as? Int == 9 && answer["ErrorDescription"] as? String == "Error in the network protocol", "\(answer)")
            let details = answer["ErrorDetails"] as? String
            #expect(details?.contains("VNAQR") == true && ArchivePipeline<HTTPOrthancClient>.dimseStatus(in: details) == nil, "\(details ?? "")")
            guard case .unfinished = result else {
                Issue.record("a C-MOVE cut off is \(result), not unfinished")
                return ""
            }
            return "ErrorCode \(answer["ErrorCode"] ?? "-"), ErrorDescription \"\(answer["ErrorDescription"] ?? "-")\", ErrorDetails \"\(details ?? "-")\""
        }

        /// The service's client for orthanc-raw, its deadline (30 s) longer than raw's DicomScuTimeout (10 s).
        func client() throws -> HTTPOrthancClient {
            HTTPOrthancClient(
                httpClient: lab.http,
                configuration: .init(try lab.configuration().orthancRaw, requestTimeout: .seconds(30)),
                logger: logger
            )
        }

        /// Runs `body` with a started proxy in front of the VNA's DICOM port and orthanc-raw's modality ``modality``
        /// pointing at it (the VNA's AE title); deletes the modality and stops the proxy after, whatever happens.
        func withProxy(_ body: (DelayProxy, HTTPOrthancClient) async throws -> Void) async throws {
            let primary = lab.environment["PRIMARY_DICOM_SOURCE_MODALITY"]!
            let vna = try #require(try await lab.raw("/modalities/\(primary)/configuration") as? [String: Any])
            let proxy = DelayProxy(targetPort: try #require(vna["Port"] as? Int))
            try await proxy.start()
            let path = "/modalities/\(Self.modality)"
            do {
                try await lab.rawSend(.PUT, path, json: ["AET": vna["AET"] as Any, "Host": "127.0.0.1", "Port": proxy.port])
                try await body(proxy, try client())
            } catch {
                try? await lab.rawSend(.DELETE, path)
                await proxy.stop()
                throw error
            }
            try await lab.rawSend(.DELETE, path)
            await proxy.stop()
            let modalities = try #require(try await lab.raw("/modalities") as? [String])
            #expect(!modalities.contains(Self.modality))
            #expect(proxy.openConnections == 0)
        }

        /// Orthanc's JSON error answer, which the client keeps as the error's detail.
        static func orthancError(_ error: OrthancError) throws -> [String: Any] {
            try #require(JSONSerialization.jsonObject(with: Data((error.detail ?? "").utf8)) as? [String: Any], "\(error.debugDescription)")
        }

        static func summary(_ answer: [String: Any]) -> String {
            ["HttpStatus", "OrthancStatus", "Message", "Details"].map { "\($0) \(answer[$0] ?? "-")" }.joined(separator: ", ")
        }

        /// How many C-MOVEs the VNA has given up so far, by its log (`MoveScp.cpp:301] Move SCP Failed: …`).
        func vnaMoveFailures() throws -> Int {
            let log = try String(contentsOf: Lab.directory.appendingPathComponent("vna/vna.log"), encoding: .utf8)
            return log.components(separatedBy: "Move SCP Failed").count - 1
        }

        /// How many instances of a study orthanc-raw holds (0 before any arrived).
        func rawInstanceCount(_ id: String) async throws -> Int {
            guard let statistics = try? await lab.raw("/studies/\(id)/statistics") as? [String: Any] else { return 0 }
            return statistics["CountInstances"] as? Int ?? 0
        }

        /// Polls `condition` every 20 ms until it holds, for at most 30 s.
        func until(_ what: String, _ condition: () async throws -> Bool) async throws {
            let deadline = ContinuousClock.now + .seconds(30)
            while try await !condition() {
                guard ContinuousClock.now < deadline else { throw LabError("timed out waiting until \(what)") }
                try await Task.sleep(for: .milliseconds(20))
            }
        }

        func fact(_ line: String) {
            print("fact: \(line)")
        }

        func ms(_ duration: Duration) -> String {
            let (seconds, attoseconds) = duration.components
            return "\(seconds * 1000 + attoseconds / 1_000_000_000_000_000) ms"
        }
    }
}

extension Lab {
    /// A call to orthanc-raw's REST API with an optional JSON body; fails unless it answers 200.
    func rawSend(_ method: HTTPMethod, _ path: String, json: [String: Any]? = nil) async throws {
        var request = HTTPClientRequest(url: environment["ORTHANC_RAW_URL"]! + path)
        request.method = method
        let credentials = Data("\(environment["ORTHANC_RAW_USERNAME"]!):\(environment["ORTHANC_RAW_PASSWORD"]!)".utf8).base64EncodedString()
        request.headers.add(name: "Authorization", value: "Basic \(credentials)")
        if let json { request.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: json))) }
        let response = try await http.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .ok else { throw LabError("\(method.rawValue) \(path) answered \(response.status.code): \(String(buffer: body))") }
    }
}
