import AMQPClient
import NIOCore
import Testing

@Suite(.enabled(if: RabbitMQ.isConfigured, RabbitMQ.skipMessage))
struct SmokeTests {
    @Test(.timeLimit(.minutes(1)))
    func publishAndConsumeOne() async throws {
        let connection = try await RabbitMQ.connect()
        let channel = try await connection.openChannel()
        let queue = RabbitMQ.queueName("smoke")
        try await channel.declareQueue(queue, durable: true)
        try await channel.confirmSelect()
        try await channel.publish(ByteBuffer(string: "hello"), routingKey: queue)
        let body = try await connection.withConsumer(queue: queue, prefetch: 1) { deliveries in
            for try await delivery in deliveries {
                try await delivery.ack()
                return String(buffer: delivery.body)
            }
            return ""
        }
        #expect(body == "hello")
        try await channel.deleteQueue(queue)
        try await connection.close()
    }
}
