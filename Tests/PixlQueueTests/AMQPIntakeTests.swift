import AMQPClient
import Foundation
import InMemoryLogging
import Logging
import PixlCore
import PixlQueue
import PixlTesting
import Testing

/// The RabbitMQ intake against a real broker, with an in-memory store and the test standing in for the worker pool.
/// Serialized: one test restarts the broker.
@Suite(.serialized, .enabled(if: LiveService.rabbitMQ.isEnabled, LiveService.rabbitMQ.skipMessage), .timeLimit(.minutes(3)))
struct AMQPIntakeTests {
    @Test func acknowledgesOnlyOnceTheJobIsFinalOrScheduledAndNeverHoldsMoreThanPrefetch() async throws {
        let queue = Broker.queueName("ack")
        defer { Broker.delete(queue) }
        try await Broker.declare(queue)
        let count = 10
        try await Broker.publish((1...count).map { body(plainMessage($0)) }, to: queue)
        // Notifications only (the poll is slow here), so the prompt path is what acknowledges.
        let harness = IntakeHarness(queue: queue, prefetch: 3, statusPoll: .seconds(30))
        try await harness.run {
            try await eventually("3 jobs are enqueued") { await harness.jobs().count == 3 }
            try await Task.sleep(for: .milliseconds(300))
            #expect(await harness.jobs().count == 3, "no more than prefetch deliveries while none is acknowledged")
            #expect(harness.intake.unacknowledgedDeliveries == 3)
            #expect(try await Broker.readyCount(queue) == count - 3, "the queue still shows the work not started")

            // Claimed (in progress) is not enough to acknowledge.
            let claimed = try #require(try await harness.store.claimNext(in: .primary, now: Date(), lease: .seconds(60)))
            try await Task.sleep(for: .milliseconds(300))
            #expect(await harness.jobs().count == 3)
            #expect(harness.intake.unacknowledgedDeliveries == 3)

            // Final → acknowledged → one more delivery.
            try await harness.record(JobResult(.succeeded(archive: .primary, studies: [])), for: claimed)
            try await eventually("a fourth job arrives") { await harness.jobs().count == 4 }

            // Scheduled for later (retry, deferred) also hands the message to the store.
            try await harness.process(JobResult(.retry(reason: "test"), retryAt: Date().addingTimeInterval(3600)))
            try await harness.process(JobResult(.deferred(until: Date().addingTimeInterval(3600), reason: "test")))
            try await eventually("six jobs") { await harness.jobs().count == 6 }

            var maxUnacknowledged = 0
            while await harness.jobs().filter({ $0.state.releasesDelivery }).count < count {
                maxUnacknowledged = max(maxUnacknowledged, harness.intake.unacknowledgedDeliveries)
                if try await harness.process() == nil { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(maxUnacknowledged <= 3)
            try await eventually("every delivery is acknowledged") {
                try Broker.isDrained(queue) && harness.intake.unacknowledgedDeliveries == 0
            }
        }
        #expect(await harness.jobs().count == count)
        #expect(Set(await harness.jobs().map(\.message)) == Set((1...count).map { plainMessage($0) }))
    }

    @Test func learnsOfJobsFromTheStoreWithoutNotifications() async throws {
        let queue = Broker.queueName("poll")
        defer { Broker.delete(queue) }
        try await Broker.declare(queue)
        try await Broker.publish((1...6).map { body(plainMessage($0)) }, to: queue)
        let harness = IntakeHarness(queue: queue, prefetch: 2, statusPoll: .milliseconds(100), notifications: false)
        try await harness.run {
            try await withWorker(harness) {
                try await eventually("all six jobs succeeded") {
                    await harness.jobs().filter { $0.state == .succeeded }.count == 6
                }
                try await eventually("the queue is empty with nothing unacknowledged") { try Broker.isDrained(queue) }
            }
        }
    }

    /// A message the broker delivers again after its job finished (the acknowledgement was lost with the connection)
    /// is acknowledged against that job, not made a new one.
    @Test func aRedeliveryOfAFinishedJobIsNotANewJob() async throws {
        let queue = Broker.queueName("redelivery")
        defer { Broker.delete(queue) }
        try await Broker.declare(queue)
        try await Broker.publish([body(plainMessage(1))], to: queue)
        let store = InMemoryJobStore()
        // The first intake stores the job and holds the delivery; the job finishes while nobody tells the intake.
        let first = IntakeHarness(queue: queue, prefetch: 1, statusPoll: .seconds(60), notifications: false, store: store)
        try await first.run {
            try await eventually("the job is stored") { await store.allJobs.count == 1 }
            try await first.process()
        }
        // Its connection closed with the delivery unacknowledged: the broker delivers it again, redelivered.
        let second = IntakeHarness(queue: queue, prefetch: 1, statusPoll: .seconds(60), notifications: false, store: store)
        try await second.run {
            try await eventually("the redelivery is acknowledged") { try Broker.isDrained(queue) }
        }
        #expect(await store.allJobs.map(\.state) == [.succeeded])
    }

    /// A broker refusing the login does not stop the intake (nor, with it, the service): it keeps trying, quietly
    /// waiting, and stops cleanly on shutdown.
    @Test func aRefusedLoginKeepsTheIntakeWaitingNotStopped() async throws {
        let queue = Broker.queueName("refused")
        let harness = IntakeHarness(queue: queue, prefetch: 1, password: "wrong")
        try await harness.run {
            try await eventually("the broker refused the login") { harness.intake.refusals > 0 }
            #expect(harness.intake.connectionCount == 0 && !harness.intake.isConnected)
        }
    }

    /// PIXL's `populate --priority` sets the AMQP priority: it becomes the job's; none (or 0) is the default, 1.
    @Test func theAMQPPriorityBecomesTheJobs() async throws {
        let queue = Broker.queueName("priority")
        defer { Broker.delete(queue) }
        try await Broker.declare(queue)
        try await Broker.publish([body(plainMessage(1))], to: queue)
        try await Broker.publish([body(plainMessage(2))], to: queue, priority: 4)
        try await Broker.publish([body(plainMessage(3))], to: queue, priority: 9)
        let harness = IntakeHarness(queue: queue, prefetch: 3)
        try await harness.run {
            try await eventually("three jobs") { await harness.jobs().count == 3 }
        }
        let priorities = Dictionary(uniqueKeysWithValues: await harness.jobs().map { ($0.message.procedureOccurrenceID, $0.message.priority) })
        #expect(priorities == [1: 1, 2: 4, 3: 5])
    }

    /// A W3C `traceparent` in the message's headers (a long string, or bytes) is stored with its job, for the job's
    /// span; an invalid one is ignored, and the message is still taken.
    @Test func theTraceparentHeaderIsStoredWithTheJob() async throws {
        let queue = Broker.queueName("trace")
        defer { Broker.delete(queue) }
        try await Broker.declare(queue)
        let traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        try await Broker.publish([body(plainMessage(1))], to: queue, headers: ["traceparent": .string(traceparent), "tracestate": .string("rojo=1")])
        try await Broker.publish([body(plainMessage(2))], to: queue, headers: ["traceparent": .bytes(Array(traceparent.utf8))])
        try await Broker.publish([body(plainMessage(3))], to: queue, headers: ["traceparent": .string("00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01")])
        try await Broker.publish([body(plainMessage(4))], to: queue)
        let harness = IntakeHarness(queue: queue, prefetch: 4)
        try await harness.run {
            try await eventually("four jobs") { await harness.jobs().count == 4 }
        }
        let contexts = Dictionary(uniqueKeysWithValues: await harness.jobs().map { ($0.message.procedureOccurrenceID, $0.message.traceContext) })
        #expect(contexts[1] == TraceContext(traceparent: traceparent, tracestate: "rojo=1") && contexts[1]??.tracestate == "rojo=1")
        #expect(contexts[2] == TraceContext(traceparent: traceparent, tracestate: nil) && contexts[2] != nil)
        #expect(contexts[3] == .some(nil) && contexts[4] == .some(nil))
    }

    @Test func invalidBodiesAreDeadLetteredWhileValidOnesBehindThemFlow() async throws {
        let queue = Broker.queueName("dlx")
        let deadLetters = queue + "-dead"
        defer { Broker.clearPolicy(queue); Broker.delete(queue, deadLetters) }
        try await Broker.declare(deadLetters)
        try Broker.setDeadLetterPolicy(queue, to: deadLetters)
        try await Broker.declare(queue)

        let bad: [[UInt8]] = [
            Array("not json".utf8),
            [],
            Array(#"{"mrn": "SECRET-MRN-1", "accession_number": "A1"}"#.utf8),  // missing fields
            Array(body(plainMessage(99)).dropLast()),  // truncated
        ]
        // Two bad bodies in front of each good one, prefetch 2: only rejecting them lets the good ones through.
        var bodies: [[UInt8]] = []
        for n in 1...4 {
            bodies += [bad[n - 1], bad[(n) % bad.count], body(plainMessage(n))]
        }
        try await Broker.publish(bodies, to: queue)
        let harness = IntakeHarness(queue: queue, prefetch: 2)
        try await harness.run {
            try await withWorker(harness) {
                try await eventually("the four valid messages succeeded") {
                    await harness.jobs().filter { $0.state == .succeeded }.count == 4
                }
                try await eventually("eight bodies are dead-lettered") { try await Broker.readyCount(deadLetters) == 8 }
                try await eventually("the queue is empty with nothing unacknowledged") { try Broker.isDrained(queue) }
            }
        }
        #expect(harness.metrics.rejectedCount == 8)
        #expect(Set(await harness.jobs().map(\.message)) == Set((1...4).map { plainMessage($0) }))
    }

    /// A key or a pickled class name is chosen by the sender and may be an identifier: the warning logged for a
    /// rejected body names the fields of a message and the problem in fixed words, and repeats none of them, nor
    /// does any other line the intake logs, at any level (issue 11 item 6).
    @Test func rejectedBodiesAreLoggedWithoutTheirKeysOrPickledNames() async throws {
        let queue = Broker.queueName("names")
        defer { Broker.delete(queue) }
        try await Broker.declare(queue)
        let identifiers = ["MRN40800001", "ACC7700001", "Jane_Doe_19700101", "nhs.4857773456"]
        let good = String(decoding: body(plainMessage(1)), as: UTF8.self)
        let bodies: [String] = [
            good.replacingOccurrences(of: "{", with: #"{"\#(identifiers[0])":"x","#),
            #"{"py/object":"core.patient_queue.message.Message","\#(identifiers[1])":1}"#,
            #"{"py/object":"\#(identifiers[2])","mrn":"x"}"#,
            #"{"py/reduce":[{"py/function":"\#(identifiers[3])"},{"py/tuple":[]}]}"#,
        ]
        try await Broker.publish(bodies.map { Array($0.utf8) }, to: queue)
        var handler = InMemoryLogHandler()
        handler.logLevel = .trace
        let logs = handler
        let harness = IntakeHarness(queue: queue, prefetch: 2, logger: Logger(label: "pixl-queue-tests.names") { _ in logs })
        try await harness.run {
            try await eventually("the four bodies are rejected") { harness.metrics.rejectedCount == bodies.count }
        }
        let warnings = logs.entries.filter { $0.level == .warning }
        let problems = warnings.compactMap { $0.metadata["pixl.message.problem"].map { "\($0)" } }
        #expect(problems.count == bodies.count)
        #expect(problems.filter { $0 == "message holds a key that is not a message field" }.count == 2, "\(problems)")
        #expect(problems.filter { $0 == "message holds an unsupported pickled object" }.count == 2, "\(problems)")
        for entry in logs.entries {
            let line = "\(entry.message) \(entry.metadata)"
            for identifier in identifiers {
                #expect(!line.contains(identifier), "\(line)")
            }
        }
    }

    @Test func declaresAMissingQueueDurableAndKeepsAnExistingQueuesArguments() async throws {
        // PIXL's later CLI declares the queue with x-max-priority 5: the intake must not contradict it (406).
        let existing = Broker.queueName("priority")
        let missing = Broker.queueName("missing")
        defer { Broker.delete(existing, missing) }
        try await Broker.declare(existing, arguments: ["x-max-priority": .int32(5)])
        for queue in [existing, missing] {
            try await Broker.publish([body(plainMessage(1))], to: queue)  // dropped for `missing`: no such queue yet
            let harness = IntakeHarness(queue: queue, prefetch: 1)
            try await harness.run {
                try await eventually("the intake consumes") { harness.intake.connectionCount >= 1 }
                if queue == existing {
                    try await eventually("the message becomes a job") { await harness.jobs().count == 1 }
                }
            }
        }
        // The missing queue now exists, durable and without arguments: a plain durable declaration matches it.
        try await Broker.withChannel { try await $0.declareQueue(missing, durable: true) }
        await #expect(throws: AMQPError.self) {
            try await Broker.withChannel { try await $0.declareQueue(existing, durable: true) }
        }
    }

    @Test func pixlWireSamplesPublishedByPikaAreConsumedAndBadOnesDeadLettered() async throws {
        let queue = Broker.queueName("wire")
        let deadLetters = queue + "-dead"
        defer { Broker.clearPolicy(queue); Broker.delete(queue, deadLetters) }
        try await Broker.declare(deadLetters)
        try Broker.setDeadLetterPolicy(queue, to: deadLetters)
        try await Broker.declare(queue, arguments: ["x-max-priority": .int32(5)])  // as PIXL's CLI

        let good = PixlMessageFixtures.good
        let bad = PixlMessageFixtures.bad
        #expect(good.count == 46 && bad.count == 37)
        // Good and bad interleaved, so valid messages sit behind invalid ones.
        var files: [URL] = []
        for index in 0..<max(good.count, bad.count) {
            if index < bad.count { files.append(bad[index]) }
            if index < good.count { files.append(good[index]) }
        }
        try Broker.pikaPublish(files, to: queue)

        var valid: Set<ImagingMessage> = []
        var refused = 0
        for file in good {
            if let message = try? MessageDecoder.decode(Array(try Data(contentsOf: file))) { valid.insert(message) } else { refused += 1 }
        }
        #expect(refused == 3, "three samples PIXL would send are refused by validation: no study named, a `\\` in an accession number, a non-ASCII MRN (see PixlCoreTests)")

        let harness = IntakeHarness(queue: queue, prefetch: 5)
        try await harness.run {
            try await withWorker(harness) {
                // Samples with the same identity (project, mrn, accession, study, series) share an unfinished job.
                try await eventually("every valid sample is a job") {
                    Set(await harness.jobs().map(\.message.identity)) == Set(valid.map(\.identity))
                }
                try await eventually("the bad samples are dead-lettered") { try await Broker.readyCount(deadLetters) == bad.count + refused }
                try await eventually("the queue is empty with nothing unacknowledged") { try Broker.isDrained(queue) }
            }
        }
        #expect(harness.metrics.rejectedCount == bad.count + refused)
        // One sample against what PIXL's own consumer decodes (001-test-csv.expected.json).
        let first = try #require(await harness.jobs().first { $0.message.studyUID == "1.2.3.4.5.6.7.8" }?.message)
        #expect(first.mrn == "patient_identifier")
        #expect(first.accessionNumber == "123456789")
        #expect(first.studyDate.description == "2022-01-01")
        #expect(first.projectName == "ms-pinpoint-test")
        #expect(first.extractGeneratedTimestamp.description == "2023-01-01T00:01:00+00:00")
    }

    @Test func aBrokerRestartMidConsumptionLosesNothing() async throws {
        let queue = Broker.queueName("restart")
        defer { Broker.delete(queue) }
        try await Broker.declare(queue)
        let count = 40
        let messages = (1...count).map { plainMessage($0) }
        try await Broker.publish(messages.map(body), to: queue)
        let harness = IntakeHarness(queue: queue, prefetch: 5)
        try await harness.run {
            try await withWorker(harness, delay: .milliseconds(30)) {
                try await eventually("a quarter of the jobs succeeded") {
                    await harness.jobs().filter { $0.state == .succeeded }.count >= count / 4
                }
                try await Broker.scriptInBackground("restart")
                try await eventually("every message succeeded", timeout: .seconds(60)) {
                    Set(await harness.jobs().filter { $0.state == .succeeded }.map(\.message)) == Set(messages)
                }
                try await eventually("the queue is empty with nothing unacknowledged", timeout: .seconds(30)) {
                    try Broker.isDrained(queue)
                }
            }
        }
        #expect(harness.intake.connectionCount >= 2, "reconnected after the restart")
        let jobs = await harness.jobs()
        // A delivery redelivered after its job finished makes a new job (it finds the study local): allowed, counted.
        print("broker restart: \(count) messages, \(jobs.count) jobs, \(harness.intake.connectionCount) connections")
        #expect(jobs.count >= count)
    }
}
