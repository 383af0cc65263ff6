import NIOCore
import Testing

@testable import AMQPClient

struct ConnectionStateMachineTests {
    static let configuration = ConnectionStateMachine.Configuration(
        username: "guest", password: "secret", virtualHost: "/", frameMax: 131_072, channelMax: 2047, heartbeat: 10,
        clientProperties: ["product": .string("test")]
    )
    static let start = AMQPMethod.Start(serverProperties: [:], mechanisms: "AMQPLAIN PLAIN", locales: "en_US")
    let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)

    func openMachine(heartbeat: UInt16 = 10, clientHeartbeat: UInt16 = 10) -> ConnectionStateMachine {
        var configuration = Self.configuration
        configuration.heartbeat = clientHeartbeat
        var machine = ConnectionStateMachine(configuration: configuration)
        _ = machine.connected(now: t0)
        _ = machine.frameReceived(.method(0, .connectionStart(Self.start)), now: t0)
        _ = machine.frameReceived(.method(0, .connectionTune(.init(channelMax: 0, frameMax: 131_072, heartbeat: heartbeat))), now: t0)
        _ = machine.frameReceived(.method(0, .connectionOpenOk), now: t0)
        return machine
    }

    @Test func negotiatesPlainTuneAndOpen() {
        var machine = ConnectionStateMachine(configuration: Self.configuration)
        guard case .sendProtocolHeader = machine.connected(now: t0) else { Issue.record("no header"); return }
        guard case .sendStartOk(let startOk) = machine.frameReceived(.method(0, .connectionStart(Self.start)), now: t0) else {
            Issue.record("no start-ok"); return
        }
        #expect(startOk.mechanism == "PLAIN")
        #expect(startOk.response == "\u{0}guest\u{0}secret")
        let tune = machine.frameReceived(.method(0, .connectionTune(.init(channelMax: 0, frameMax: 4096, heartbeat: 60))), now: t0)
        guard case .sendTuneOkAndOpen(let negotiated, "/") = tune else { Issue.record("got \(tune)"); return }
        #expect(negotiated == AMQPNegotiatedParameters(channelMax: 2047, frameMax: 4096, heartbeat: 10))
        guard case .succeedConnect(negotiated) = machine.frameReceived(.method(0, .connectionOpenOk), now: t0) else {
            Issue.record("not open"); return
        }
        #expect(machine.isOpen)
    }

    @Test func negotiationRules() {
        #expect(ConnectionStateMachine.negotiate(UInt32(0), 0, unlimited: 131_072) == 131_072)
        #expect(ConnectionStateMachine.negotiate(UInt32(0), 8192, unlimited: 131_072) == 8192)
        #expect(ConnectionStateMachine.negotiate(UInt32(65536), 0, unlimited: 131_072) == 65536)
        #expect(ConnectionStateMachine.negotiate(UInt16(100), 2047, unlimited: .max) == 100)
    }

    @Test func refusesABrokerWithoutPlain() {
        var machine = ConnectionStateMachine(configuration: Self.configuration)
        _ = machine.connected(now: t0)
        let action = machine.frameReceived(.method(0, .connectionStart(.init(serverProperties: [:], mechanisms: "EXTERNAL", locales: ""))), now: t0)
        guard case .closeSocket(let error) = action else { Issue.record("got \(action)"); return }
        #expect(error.code == .authenticationMechanismUnavailable)
    }

    @Test func heartbeatsAreSentWhenIdleAndAMissedOneClosesTheConnection() {
        var machine = openMachine(heartbeat: 2)
        guard case .sendHeartbeat = machine.heartbeatTick(now: t0 + .seconds(1)) else { Issue.record("no heartbeat"); return }
        machine.frameWritten()
        guard case .wait = machine.heartbeatTick(now: t0 + .seconds(2)) else { Issue.record("heartbeat despite traffic"); return }
        _ = machine.frameReceived(.heartbeat, now: t0 + .seconds(3))
        guard case .sendHeartbeat = machine.heartbeatTick(now: t0 + .seconds(6)) else { Issue.record("closed too early"); return }
        let action = machine.heartbeatTick(now: t0 + .milliseconds(7100))
        guard case .closeSocket(let error) = action else { Issue.record("got \(action)"); return }
        #expect(error.code == .missedHeartbeat)
    }

    @Test func heartbeatNegotiation() {
        // Broker 0: the client's value; client 0: disabled; both set: the smaller.
        #expect(openMachine(heartbeat: 0, clientHeartbeat: 10).negotiated?.heartbeat == 10)
        #expect(openMachine(heartbeat: 60, clientHeartbeat: 0).negotiated?.heartbeat == 0)
        #expect(openMachine(heartbeat: 60, clientHeartbeat: 2).negotiated?.heartbeat == 2)
    }

    @Test func noHeartbeatsWhenDisabled() {
        var machine = openMachine(heartbeat: 60, clientHeartbeat: 0)
        guard case .wait = machine.heartbeatTick(now: t0 + .seconds(3600)) else { Issue.record("heartbeat"); return }
    }

    @Test func serverConnectionCloseIsATypedError() {
        var machine = openMachine()
        let action = machine.frameReceived(.method(0, .connectionClose(CloseReason(replyCode: 320, replyText: "CONNECTION_FORCED - shutdown"))), now: t0)
        guard case .sendCloseOkAndCloseSocket(let error) = action else { Issue.record("got \(action)"); return }
        #expect(error.code == .connectionClosedByServer)
        #expect(error.replyCode == 320)
        #expect(error.replyText == "CONNECTION_FORCED - shutdown")
        #expect(!error.description.contains("shutdown"))
    }

    @Test func serverChannelCloseFailsTheChannelAndFreesItsNumber() {
        var machine = openMachine()
        #expect(machine.openChannel() == 1)
        #expect(machine.openChannel() == 2)
        let reason = CloseReason(replyCode: 406, replyText: "PRECONDITION_FAILED", classID: 50, methodID: 10)
        let action = machine.frameReceived(.method(1, .channelClose(reason)), now: t0)
        guard case .sendChannelCloseOkAndFail(1, let error) = action else { Issue.record("got \(action)"); return }
        #expect(error.code == .channelClosedByServer && error.replyCode == 406 && error.classID == 50)
        #expect(machine.openChannel() == 1)
    }

    @Test func assemblesContentAcrossBodyFrames() {
        var machine = openMachine()
        _ = machine.openChannel()
        let deliver = AMQPMethod.basicDeliver(.init(consumerTag: "c", deliveryTag: 1, redelivered: false, exchange: "", routingKey: "q"))
        guard case .wait = machine.frameReceived(.method(1, deliver), now: t0) else { Issue.record("early"); return }
        let header = ContentHeader(bodySize: 6, properties: .persistent)
        guard case .wait = machine.frameReceived(Frame(channel: 1, payload: .header(header)), now: t0) else { Issue.record("early"); return }
        guard case .wait = machine.frameReceived(Frame(channel: 1, payload: .body(ByteBuffer(string: "abc"))), now: t0) else {
            Issue.record("early"); return
        }
        let action = machine.frameReceived(Frame(channel: 1, payload: .body(ByteBuffer(string: "def"))), now: t0)
        guard case .deliver(1, let content) = action else { Issue.record("got \(action)"); return }
        #expect(content.method == deliver)
        #expect(String(buffer: content.body) == "abcdef")
        #expect(content.properties.deliveryMode == 2)
    }

    @Test func deliversAnEmptyBodyOnTheHeader() {
        var machine = openMachine()
        _ = machine.openChannel()
        let deliver = AMQPMethod.basicDeliver(.init(consumerTag: "c", deliveryTag: 1, redelivered: false, exchange: "", routingKey: "q"))
        _ = machine.frameReceived(.method(1, deliver), now: t0)
        let action = machine.frameReceived(Frame(channel: 1, payload: .header(ContentHeader(bodySize: 0, properties: .init()))), now: t0)
        guard case .deliver(1, let content) = action else { Issue.record("got \(action)"); return }
        #expect(content.body.readableBytes == 0)
    }

    @Test func aFrameOnAnUnknownChannelIsAProtocolError() {
        var machine = openMachine()
        let action = machine.frameReceived(.method(9, .basicQosOk), now: t0)
        guard case .sendClose(let reason, let error) = action else { Issue.record("got \(action)"); return }
        #expect(reason.replyCode == 505)
        #expect(error.code == .protocolError)
    }

    @Test func clientCloseWaitsForCloseOk() {
        var machine = openMachine()
        guard case .sendClose(let reason, _) = machine.close() else { Issue.record("no close"); return }
        #expect(reason.replyCode == 200)
        guard case .wait = machine.frameReceived(.method(0, .connectionBlocked(reason: "x")), now: t0) else { Issue.record("not ignored"); return }
        guard case .closeSocket(let error) = machine.frameReceived(.method(0, .connectionCloseOk), now: t0) else {
            Issue.record("no close"); return
        }
        #expect(error.code == .connectionClosed)
    }
}
