import Testing

@testable import AMQPClient

struct AMQPReconnectingConsumerTests {
    @Test func backoffGrowsToItsMaximum() {
        let backoff = AMQPReconnectingConsumer.Backoff(initial: .milliseconds(100), maximum: .seconds(1), multiplier: 2)
        #expect((0..<6).map { backoff.delay(attempt: $0) } == [
            .milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1), .seconds(1),
        ])
    }

    @Test func connectionLossesAreRetriedButRefusalsAreNot() {
        var forced = AMQPError(.connectionClosedByServer, reason: CloseReason(replyCode: 320, replyText: "CONNECTION_FORCED"))
        #expect(AMQPReconnectingConsumer.isRetryable(forced))
        forced.replyCode = 403
        #expect(!AMQPReconnectingConsumer.isRetryable(forced))
        #expect(AMQPReconnectingConsumer.isRetryable(AMQPError(.missedHeartbeat)))
        #expect(AMQPReconnectingConsumer.isRetryable(AMQPError(.connectionClosed)))
        #expect(AMQPReconnectingConsumer.isRetryable(CancellationError()))  // any socket error
        let mismatch = AMQPError(.channelClosedByServer, reason: CloseReason(replyCode: 406, replyText: "PRECONDITION_FAILED"))
        #expect(!AMQPReconnectingConsumer.isRetryable(mismatch))
    }
}
