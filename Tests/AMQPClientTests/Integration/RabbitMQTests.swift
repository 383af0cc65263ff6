import AMQPClient
import Foundation
import NIOCore
import PixlTesting
import Testing

/// Against a real broker (`scripts/rabbitmq up`). Serialized: some tests restart or freeze the broker.
@Suite(.serialized, .enabled(if: LiveService.rabbitMQ.isEnabled, LiveService.rabbitMQ.skipMessage))
struct RabbitMQTests {
    // MARK: Helpers
    /// Publishes with confirms, `concurrency` at a time.
    static func publish(_ bodies: [ByteBuffer], to queue: String, on channel: AMQPChannel, concurrency: Int = 200) async throws {
        var index = 0
        while index < bodies.count {
            let batch = bodies[index..<min(index + concurrency, bodies.count)]
            try await withThrowingTaskGroup(of: Void.self) { group in
                for body in batch {
                    group.addTask { try await channel.publish(body, routingKey: queue) }
                }
                try await group.waitForAll()
            }
            index += batch.count
        }
    }

    actor Counter {
        var received: [AMQPDelivery] = []
        var acked = 0
        var maxOutstanding = 0
        func add(_ delivery: AMQPDelivery) {
            received.append(delivery)
            maxOutstanding = max(maxOutstanding, received.count - acked)
        }
        func markAcked(upTo count: Int) { acked = count }
    }

    // MARK: Tests
    @Test(.timeLimit(.minutes(2)))
    func tenThousandMessagesNoneLostOrDuplicated() async throws {
        let connection = try await RabbitMQ.connect()
        let channel = try await connection.openChannel()
        let queue = RabbitMQ.queueName("10k")
        try await channel.declareQueue(queue, durable: true)
        try await channel.confirmSelect()
        let count = 10_000
        try await Self.publish((0..<count).map { ByteBuffer(string: "\($0)") }, to: queue, on: channel)
        #expect(try await channel.declareQueue(queue, passive: true).messageCount == UInt32(count))

        var seen = Set<Int>()
        var duplicates = 0
        try await connection.withConsumer(queue: queue, prefetch: 200) { deliveries in
            for try await delivery in deliveries {
                let value = Int(String(buffer: delivery.body))!
                if !seen.insert(value).inserted { duplicates += 1 }
                try await delivery.ack()
                if seen.count == count { break }
            }
        }
        #expect(seen == Set(0..<count))
        #expect(duplicates == 0)
        #expect(try await channel.deleteQueue(queue) == 0)
        try await connection.close()
    }

    @Test(.timeLimit(.minutes(1)))
    func bodiesOfEdgeSizes() async throws {
        let connection = try await RabbitMQ.connect()
        let frameMax = Int(connection.negotiated.frameMax)
        let sizes = [0, 1, frameMax - 1, 3 * frameMax]
        let channel = try await connection.openChannel()
        let queue = RabbitMQ.queueName("sizes")
        try await channel.declareQueue(queue, durable: true)
        try await channel.confirmSelect()
        let bodies = sizes.map { size in ByteBuffer(bytes: (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ size) }) }
        for body in bodies { try await channel.publish(body, routingKey: queue, properties: AMQPProperties(contentType: "application/octet-stream", deliveryMode: .persistent)) }
        let received = try await connection.withConsumer(queue: queue, prefetch: 10) { deliveries in
            var received: [AMQPDelivery] = []
            for try await delivery in deliveries {
                received.append(delivery)
                try await delivery.ack()
                if received.count == bodies.count { break }
            }
            return received
        }
        #expect(received.map(\.body.readableBytes) == sizes)
        #expect(received.map(\.body) == bodies)
        #expect(received.allSatisfy { $0.properties.deliveryMode == 2 && $0.properties.contentType == "application/octet-stream" })
        try await channel.deleteQueue(queue)
        try await connection.close()
    }

    @Test(.timeLimit(.minutes(1)))
    func prefetchIsRespected() async throws {
        let connection = try await RabbitMQ.connect()
        let channel = try await connection.openChannel()
        let queue = RabbitMQ.queueName("prefetch")
        try await channel.declareQueue(queue, durable: true)
        try await channel.confirmSelect()
        let count = 100
        let prefetch = 10
        try await Self.publish((0..<count).map { ByteBuffer(string: "\($0)") }, to: queue, on: channel)

        let consumerChannel = try await connection.openChannel()
        try await consumerChannel.qos(prefetchCount: UInt16(prefetch))
        let deliveries = try await consumerChannel.consume(queue: queue)
        let counter = Counter()
        let reader = Task {
            for try await delivery in deliveries {
                await counter.add(delivery)
                if await counter.received.count == count { break }
            }
        }
        var windowFilled = 0
        while await counter.acked < count {
            try await Task.sleep(for: .milliseconds(100))
            let received = await counter.received
            if received.count - (await counter.acked) == prefetch { windowFilled += 1 }
            if let last = received.last, received.count > (await counter.acked) {
                // Counted as acknowledged before the ack leaves: the broker may deliver the next ones as soon as it
                // has it, and they must not be counted against the old window.
                await counter.markAcked(upTo: received.count)
                try await consumerChannel.ack(deliveryTag: last.deliveryTag, multiple: true)
            }
        }
        try await reader.value
        #expect(await counter.maxOutstanding == prefetch)
        #expect(windowFilled >= count / prefetch - 1)
        try await consumerChannel.close()
        try await channel.deleteQueue(queue)
        try await connection.close()
    }

    @Test(.timeLimit(.minutes(1)))
    func passiveDeclareOfAPriorityQueueWorksWhileAPlainRedeclareFails() async throws {
        let connection = try await RabbitMQ.connect()
        let queue = RabbitMQ.queueName("priority")
        let setup = try await connection.openChannel()
        // As PIXL's later CLI declares it.
        try await setup.declareQueue(queue, durable: true, arguments: ["x-max-priority": .int32(5)])

        let passive = try await connection.openChannel()
        let state = try await passive.declareQueue(queue, passive: true)
        #expect(state.name == queue && state.messageCount == 0)

        let plain = try await connection.openChannel()
        await #expect {
            try await plain.declareQueue(queue, durable: true)
        } throws: { error in
            let error = error as? AMQPError
            return error?.code == .channelClosedByServer && error?.replyCode == AMQPError.ReplyCode.preconditionFailed
        }
        // The failed channel is closed; a further call on it says so.
        await #expect { try await plain.declareQueue(queue, passive: true) } throws: { ($0 as? AMQPError)?.code == .channelClosed }

        let missing = try await connection.openChannel()
        await #expect {
            try await missing.declareQueue(queue + ".missing", passive: true)
        } throws: { error in
            (error as? AMQPError)?.code == .channelClosedByServer && (error as? AMQPError)?.replyCode == AMQPError.ReplyCode.notFound
        }
        try await setup.deleteQueue(queue)
        try await connection.close()
    }

    @Test(.timeLimit(.minutes(1)))
    func rejectWithoutRequeueReachesTheDeadLetterQueueSetByPolicy() async throws {
        let connection = try await RabbitMQ.connect()
        let channel = try await connection.openChannel()
        let id = UUID().uuidString.prefix(8)
        let queue = "amqp-test.dl-source.\(id)"
        let dlx = "amqp-test.dlx.\(id)"
        let dlq = "amqp-test.dlq.\(id)"
        try await channel.declareExchange(dlx, type: "fanout", durable: true)
        try await channel.declareQueue(dlq, durable: true)
        try await channel.bindQueue(dlq, exchange: dlx)
        try await channel.declareQueue(queue, durable: true)
        let policy = "amqp-test-dlx-\(id)"
        try RabbitMQ.script("ctl", "set_policy", policy, "^amqp-test\\.dl-source\\.\(id)$", "{\"dead-letter-exchange\":\"\(dlx)\"}", "--apply-to", "queues")
        defer { _ = try? RabbitMQ.script("ctl", "clear_policy", policy) }
        try await Task.sleep(for: .milliseconds(500))  // policies apply asynchronously

        try await channel.confirmSelect()
        for body in ["good-1", "bad", "good-2"] { try await channel.publish(ByteBuffer(string: body), routingKey: queue) }
        let accepted = try await connection.withConsumer(queue: queue, prefetch: 5) { deliveries in
            var accepted: [String] = []
            for try await delivery in deliveries {
                let body = String(buffer: delivery.body)
                if body == "bad" {
                    try await delivery.reject(requeue: false)
                } else {
                    accepted.append(body)
                    try await delivery.ack()
                }
                if accepted.count == 2 { break }
            }
            return accepted
        }
        #expect(accepted == ["good-1", "good-2"])
        let deadLettered: AMQPDelivery? = try await connection.withConsumer(queue: dlq, prefetch: 1) { deliveries -> AMQPDelivery? in
            for try await delivery in deliveries {
                try await delivery.ack()
                return delivery
            }
            return nil
        }
        let dead = try #require(deadLettered)
        #expect(String(buffer: dead.body) == "bad")
        let xDeath: AMQPFieldValue? = dead.properties.headers?["x-death"]
        guard case .array(let deaths) = xDeath, case .table(let death) = deaths.first else {
            Issue.record("no x-death header: \(String(describing: dead.properties.headers))")
            return
        }
        #expect(death["reason"] == AMQPFieldValue.string("rejected"))
        try await channel.deleteQueue(queue)
        try await channel.deleteQueue(dlq)
        try await connection.close()
    }

    @Test(.timeLimit(.minutes(2)))
    func messagesPublishedByPikaAreConsumed() async throws {
        let python = try RabbitMQ.run(RabbitMQ.repository.appendingPathComponent("scripts/python-pika").path, [])
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let queue = RabbitMQ.queueName("pika")
        let count = 50
        let publisher = """
            import decimal, json, os, pika, sys
            params = pika.ConnectionParameters(host=os.environ["RABBITMQ_HOST"], port=int(os.environ["RABBITMQ_PORT"]),
                credentials=pika.PlainCredentials(os.environ.get("RABBITMQ_USERNAME", "guest"), os.environ.get("RABBITMQ_PASSWORD", "guest")))
            connection = pika.BlockingConnection(params)
            channel = connection.channel()
            channel.queue_declare(queue=sys.argv[1], durable=True, arguments={"x-max-priority": 5})
            channel.confirm_delivery()
            for i in range(int(sys.argv[2])):
                body = json.dumps({"index": i, "text": "é" * (i % 7)}).encode()
                channel.basic_publish(exchange="", routing_key=sys.argv[1], body=body,
                    properties=pika.BasicProperties(content_type="application/json", delivery_mode=2, priority=i % 5,
                        headers={"i": i, "s": "x", "d": decimal.Decimal("1.5"), "b": True, "l": [1, "a"], "t": {"n": None}}, message_id=str(i), timestamp=1700000000))
            connection.close()
            """
        try RabbitMQ.run(python, ["-c", publisher, queue, "\(count)"])

        let connection = try await RabbitMQ.connect()
        let received = try await connection.withConsumer(queue: queue, prefetch: 10) { deliveries in
            var received: [AMQPDelivery] = []
            for try await delivery in deliveries {
                received.append(delivery)
                try await delivery.ack()
                if received.count == count { break }
            }
            return received
        }
        struct Body: Decodable { var index: Int; var text: String }
        let indices = try received.map { try JSONDecoder().decode(Body.self, from: Data($0.body.readableBytesView)).index }
        #expect(Set(indices) == Set(0..<count))
        let first = try #require(received.first { $0.properties.messageID == "0" })
        #expect(first.properties.contentType == "application/json")
        #expect(first.properties.deliveryMode == 2)
        #expect(first.properties.timestamp == 1_700_000_000)
        let headers: AMQPFieldTable = first.properties.headers ?? AMQPFieldTable()
        let s: AMQPFieldValue? = headers["s"]
        let b: AMQPFieldValue? = headers["b"]
        let d: AMQPFieldValue? = headers["d"]
        #expect(s == AMQPFieldValue.string("x"))
        #expect(b == AMQPFieldValue.bool(true))
        #expect(d == AMQPFieldValue.decimal(scale: 1, value: 15))
        let channel = try await connection.openChannel()
        try await channel.deleteQueue(queue)
        try await connection.close()
    }

    @Test(.timeLimit(.minutes(1)))
    func aMissedHeartbeatIsDetected() async throws {
        let connection = try await RabbitMQ.connect { $0.heartbeat = 2 }
        #expect(connection.negotiated.heartbeat == 2)
        let channel = try await connection.openChannel()
        let queue = RabbitMQ.queueName("heartbeat")
        try await channel.declareQueue(queue, autoDelete: true)
        let deliveries = try await channel.consume(queue: queue)
        try RabbitMQ.script("pause")
        defer { _ = try? RabbitMQ.script("resume") }
        let start = ContinuousClock.now
        await #expect {
            for try await _ in deliveries {}
        } throws: { ($0 as? AMQPError)?.code == .missedHeartbeat }
        let elapsed = ContinuousClock.now - start
        #expect(elapsed >= .seconds(3) && elapsed < .seconds(10), "detected after \(elapsed)")
        try await connection.closeFuture.get()
        #expect(!connection.isOpen)
    }

    @Test(.timeLimit(.minutes(3)))
    func aBrokerRestartMidConsumptionLosesNothing() async throws {
        let queue = RabbitMQ.queueName("restart")
        let count = 3000
        do {
            let connection = try await RabbitMQ.connect()
            let channel = try await connection.openChannel()
            try await channel.declareQueue(queue, durable: true)
            try await channel.confirmSelect()
            try await Self.publish((0..<count).map { ByteBuffer(string: "\($0)") }, to: queue, on: channel)
            try await connection.close()
        }
        let connections = ManagedAtomicCounter()
        let consumer = AMQPReconnectingConsumer(
            host: RabbitMQ.host,
            port: RabbitMQ.port,
            configuration: RabbitMQ.configuration,
            queue: queue,
            prefetch: 50,
            backoff: .init(initial: .milliseconds(200), maximum: .seconds(2)),
            logger: RabbitMQ.logger,
            onConnect: { connections.set($0) }
        ) { channel in
            try await channel.declareQueue(queue, durable: true)
        }
        var seen = Set<Int>()
        var duplicates = 0
        var duplicatesNotFlagged = 0
        var redelivered = 0
        var restarted = false
        try await consumer.run { deliveries in
            for try await delivery in deliveries {
                let value = Int(String(buffer: delivery.body))!
                if delivery.redelivered { redelivered += 1 }
                if !seen.insert(value).inserted {
                    duplicates += 1
                    if !delivery.redelivered { duplicatesNotFlagged += 1 }
                }
                try? await delivery.ack()  // fails for deliveries of a lost connection: the broker redelivers them
                if seen.count == count / 3, !restarted {
                    // Restart while this consumer holds up to `prefetch` unacknowledged deliveries.
                    restarted = true
                    try await RabbitMQ.scriptInBackground("restart")
                }
                if seen.count == count { break }
            }
        }
        #expect(restarted)
        #expect(seen == Set(0..<count))
        #expect(connections.value >= 2, "the consumer reconnected")
        #expect(duplicatesNotFlagged == 0, "every repeated delivery is flagged redelivered")
        #expect(redelivered > 0, "deliveries unacknowledged at the restart came back flagged")
        let connection = try await RabbitMQ.connect()
        let channel = try await connection.openChannel()
        #expect(try await channel.deleteQueue(queue) == 0)
        try await connection.close()
        print("broker restart: \(count) messages, \(connections.value) connections, \(redelivered) redelivered, \(duplicates) duplicates removed")
    }
}

/// A tiny lock-protected counter for callbacks.
final class ManagedAtomicCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var _value = 0
    var value: Int { lock.withLock { _value } }
    func set(_ value: Int) { lock.withLock { _value = value } }
}
