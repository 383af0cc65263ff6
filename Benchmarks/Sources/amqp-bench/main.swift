// Publish and consume throughput of AMQPClient (scripts/bench-amqp runs it beside pika). Not a test.
//
// usage: amqp-bench [--host H] [--port P] [--count N] [--size BYTES] [--runs R]
// Prints one line per run, "swift publish <msgs/s> consume <msgs/s>", then the medians.
import AMQPClient
import Foundation
import Logging
import NIOCore

struct Options {
    var host = ProcessInfo.processInfo.environment["RABBITMQ_HOST"] ?? "127.0.0.1"
    var port = Int(ProcessInfo.processInfo.environment["RABBITMQ_PORT"] ?? "") ?? 5672
    var count = 100_000
    var size = 16
    var runs = 3

    init(_ arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let flag = iterator.next() {
            let value = iterator.next() ?? ""
            switch flag {
            case "--host": host = value
            case "--port": port = Int(value) ?? port
            case "--count": count = Int(value) ?? count
            case "--size": size = Int(value) ?? size
            case "--runs": runs = Int(value) ?? runs
            default: fatalError("unknown option \(flag)")
            }
        }
    }
}

func rate(_ count: Int, _ duration: Duration) -> Double {
    Double(count) / (Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

let options = Options(CommandLine.arguments)
var logger = Logger(label: "amqp-bench")
logger.logLevel = .warning
let body = ByteBuffer(repeating: UInt8(ascii: "x"), count: options.size)
var publishRates: [Double] = []
var consumeRates: [Double] = []
let clock = ContinuousClock()

for run in 1...options.runs {
    let connection = try await AMQPConnection.connect(host: options.host, port: options.port, logger: logger)
    let channel = try await connection.openChannel()
    let queue = "amqp-bench.swift.\(run)"
    try await channel.declareQueue(queue, autoDelete: false)
    try await channel.purgeQueue(queue)

    // Publish: one awaited basic.publish after another (each written and flushed), transient messages.
    let properties = AMQPProperties(deliveryMode: .transient)
    let publishStart = clock.now
    for _ in 0..<options.count {
        try await channel.publish(body, routingKey: queue, properties: properties)
    }
    let publishElapsed = clock.now - publishStart
    while try await channel.declareQueue(queue, passive: true).messageCount < UInt32(options.count) {
        try await Task.sleep(for: .milliseconds(20))
    }

    // Consume: prefetch 1000, one basic.ack per message.
    let consumeStart = clock.now
    try await connection.withConsumer(queue: queue, prefetch: 1000) { deliveries in
        var received = 0
        for try await delivery in deliveries {
            try await delivery.ack()
            received += 1
            if received == options.count { break }
        }
    }
    let consumeElapsed = clock.now - consumeStart
    try await channel.deleteQueue(queue)
    try await connection.close()

    publishRates.append(rate(options.count, publishElapsed))
    consumeRates.append(rate(options.count, consumeElapsed))
    print("swift run \(run): publish \(Int(publishRates.last!)) msgs/s, consume \(Int(consumeRates.last!)) msgs/s")
}
print("swift median: publish \(Int(median(publishRates))) msgs/s, consume \(Int(median(consumeRates))) msgs/s")
