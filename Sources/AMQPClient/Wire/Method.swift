// Every AMQP 0-9-1 method this client speaks, with its encoding and decoding side by side: one file, one table.
import NIOCore

/// The reply to an AMQP `close` method, from either side.
struct CloseReason: Sendable, Hashable {
    var replyCode: UInt16
    var replyText: String
    var classID: UInt16 = 0
    var methodID: UInt16 = 0
}

/// The AMQP 0-9-1 methods this client sends or understands. Anything else decodes to ``unknown``.
enum AMQPMethod: Sendable, Hashable {
    /// Class and method identifiers, `(class << 16) | method`, like `PostgresBackendMessage.ID`.
    enum ID: UInt32 {
        case connectionStart = 0x000A_000A, connectionStartOk = 0x000A_000B
        case connectionSecure = 0x000A_0014, connectionSecureOk = 0x000A_0015
        case connectionTune = 0x000A_001E, connectionTuneOk = 0x000A_001F
        case connectionOpen = 0x000A_0028, connectionOpenOk = 0x000A_0029
        case connectionClose = 0x000A_0032, connectionCloseOk = 0x000A_0033
        case connectionBlocked = 0x000A_003C, connectionUnblocked = 0x000A_003D
        case channelOpen = 0x0014_000A, channelOpenOk = 0x0014_000B
        case channelFlow = 0x0014_0014, channelFlowOk = 0x0014_0015
        case channelClose = 0x0014_0028, channelCloseOk = 0x0014_0029
        case exchangeDeclare = 0x0028_000A, exchangeDeclareOk = 0x0028_000B
        case queueDeclare = 0x0032_000A, queueDeclareOk = 0x0032_000B
        case queueBind = 0x0032_0014, queueBindOk = 0x0032_0015
        case queuePurge = 0x0032_001E, queuePurgeOk = 0x0032_001F
        case queueDelete = 0x0032_0028, queueDeleteOk = 0x0032_0029
        case basicQos = 0x003C_000A, basicQosOk = 0x003C_000B
        case basicConsume = 0x003C_0014, basicConsumeOk = 0x003C_0015
        case basicCancel = 0x003C_001E, basicCancelOk = 0x003C_001F
        case basicPublish = 0x003C_0028
        case basicReturn = 0x003C_0032
        case basicDeliver = 0x003C_003C
        case basicGet = 0x003C_0046, basicGetOk = 0x003C_0047, basicGetEmpty = 0x003C_0048
        case basicAck = 0x003C_0050
        case basicReject = 0x003C_005A
        case basicRecover = 0x003C_006E, basicRecoverOk = 0x003C_006F
        case basicNack = 0x003C_0078
        case confirmSelect = 0x0055_000A, confirmSelectOk = 0x0055_000B
    }

    struct Start: Sendable, Hashable {
        var versionMajor: UInt8 = 0
        var versionMinor: UInt8 = 9
        var serverProperties: AMQPFieldTable
        var mechanisms: String
        var locales: String
    }
    struct StartOk: Sendable, Hashable {
        var clientProperties: AMQPFieldTable
        var mechanism: String
        var response: String
        var locale: String
    }
    struct Tune: Sendable, Hashable {
        var channelMax: UInt16
        var frameMax: UInt32
        var heartbeat: UInt16
    }
    struct QueueDeclare: Sendable, Hashable {
        var queue: String
        var passive = false
        var durable = false
        var exclusive = false
        var autoDelete = false
        var noWait = false
        var arguments = AMQPFieldTable()
    }
    struct QueueDeclareOk: Sendable, Hashable {
        var queue: String
        var messageCount: UInt32
        var consumerCount: UInt32
    }
    struct ExchangeDeclare: Sendable, Hashable {
        var exchange: String
        var type: String
        var passive = false
        var durable = false
        var autoDelete = false
        var `internal` = false
        var arguments = AMQPFieldTable()
    }
    struct QueueBind: Sendable, Hashable {
        var queue: String
        var exchange: String
        var routingKey: String
        var arguments = AMQPFieldTable()
    }
    struct Consume: Sendable, Hashable {
        var queue: String
        var consumerTag: String
        var noLocal = false
        var noAck = false
        var exclusive = false
        var arguments = AMQPFieldTable()
    }
    struct Publish: Sendable, Hashable {
        var exchange: String
        var routingKey: String
        var mandatory = false
        var immediate = false
    }
    struct Deliver: Sendable, Hashable {
        var consumerTag: String
        var deliveryTag: UInt64
        var redelivered: Bool
        var exchange: String
        var routingKey: String
    }
    struct Return: Sendable, Hashable {
        var replyCode: UInt16
        var replyText: String
        var exchange: String
        var routingKey: String
    }

    case connectionStart(Start)
    case connectionStartOk(StartOk)
    case connectionSecure(challenge: String)
    case connectionSecureOk(response: String)
    case connectionTune(Tune)
    case connectionTuneOk(Tune)
    case connectionOpen(virtualHost: String)
    case connectionOpenOk
    case connectionClose(CloseReason)
    case connectionCloseOk
    case connectionBlocked(reason: String)
    case connectionUnblocked
    case channelOpen
    case channelOpenOk
    case channelFlow(active: Bool)
    case channelFlowOk(active: Bool)
    case channelClose(CloseReason)
    case channelCloseOk
    case exchangeDeclare(ExchangeDeclare)
    case exchangeDeclareOk
    case queueDeclare(QueueDeclare)
    case queueDeclareOk(QueueDeclareOk)
    case queueBind(QueueBind)
    case queueBindOk
    case queuePurge(queue: String)
    case queuePurgeOk(messageCount: UInt32)
    case queueDelete(queue: String, ifUnused: Bool, ifEmpty: Bool)
    case queueDeleteOk(messageCount: UInt32)
    case basicQos(prefetchSize: UInt32, prefetchCount: UInt16, global: Bool)
    case basicQosOk
    case basicConsume(Consume)
    case basicConsumeOk(consumerTag: String)
    case basicCancel(consumerTag: String, noWait: Bool)
    case basicCancelOk(consumerTag: String)
    case basicPublish(Publish)
    case basicReturn(Return)
    case basicDeliver(Deliver)
    case basicAck(deliveryTag: UInt64, multiple: Bool)
    case basicReject(deliveryTag: UInt64, requeue: Bool)
    case basicNack(deliveryTag: UInt64, multiple: Bool, requeue: Bool)
    case basicRecover(requeue: Bool)
    case basicRecoverOk
    case confirmSelect(noWait: Bool)
    case confirmSelectOk
    case unknown(classID: UInt16, methodID: UInt16, arguments: ByteBuffer)

    /// Whether a content header and body frames follow this method.
    var hasContent: Bool {
        switch self {
        case .basicPublish, .basicReturn, .basicDeliver: true
        default: false
        }
    }

    var id: (classID: UInt16, methodID: UInt16) {
        let raw: UInt32
        switch self {
        case .connectionStart: raw = ID.connectionStart.rawValue
        case .connectionStartOk: raw = ID.connectionStartOk.rawValue
        case .connectionSecure: raw = ID.connectionSecure.rawValue
        case .connectionSecureOk: raw = ID.connectionSecureOk.rawValue
        case .connectionTune: raw = ID.connectionTune.rawValue
        case .connectionTuneOk: raw = ID.connectionTuneOk.rawValue
        case .connectionOpen: raw = ID.connectionOpen.rawValue
        case .connectionOpenOk: raw = ID.connectionOpenOk.rawValue
        case .connectionClose: raw = ID.connectionClose.rawValue
        case .connectionCloseOk: raw = ID.connectionCloseOk.rawValue
        case .connectionBlocked: raw = ID.connectionBlocked.rawValue
        case .connectionUnblocked: raw = ID.connectionUnblocked.rawValue
        case .channelOpen: raw = ID.channelOpen.rawValue
        case .channelOpenOk: raw = ID.channelOpenOk.rawValue
        case .channelFlow: raw = ID.channelFlow.rawValue
        case .channelFlowOk: raw = ID.channelFlowOk.rawValue
        case .channelClose: raw = ID.channelClose.rawValue
        case .channelCloseOk: raw = ID.channelCloseOk.rawValue
        case .exchangeDeclare: raw = ID.exchangeDeclare.rawValue
        case .exchangeDeclareOk: raw = ID.exchangeDeclareOk.rawValue
        case .queueDeclare: raw = ID.queueDeclare.rawValue
        case .queueDeclareOk: raw = ID.queueDeclareOk.rawValue
        case .queueBind: raw = ID.queueBind.rawValue
        case .queueBindOk: raw = ID.queueBindOk.rawValue
        case .queuePurge: raw = ID.queuePurge.rawValue
        case .queuePurgeOk: raw = ID.queuePurgeOk.rawValue
        case .queueDelete: raw = ID.queueDelete.rawValue
        case .queueDeleteOk: raw = ID.queueDeleteOk.rawValue
        case .basicQos: raw = ID.basicQos.rawValue
        case .basicQosOk: raw = ID.basicQosOk.rawValue
        case .basicConsume: raw = ID.basicConsume.rawValue
        case .basicConsumeOk: raw = ID.basicConsumeOk.rawValue
        case .basicCancel: raw = ID.basicCancel.rawValue
        case .basicCancelOk: raw = ID.basicCancelOk.rawValue
        case .basicPublish: raw = ID.basicPublish.rawValue
        case .basicReturn: raw = ID.basicReturn.rawValue
        case .basicDeliver: raw = ID.basicDeliver.rawValue
        case .basicAck: raw = ID.basicAck.rawValue
        case .basicReject: raw = ID.basicReject.rawValue
        case .basicNack: raw = ID.basicNack.rawValue
        case .basicRecover: raw = ID.basicRecover.rawValue
        case .basicRecoverOk: raw = ID.basicRecoverOk.rawValue
        case .confirmSelect: raw = ID.confirmSelect.rawValue
        case .confirmSelectOk: raw = ID.confirmSelectOk.rawValue
        case .unknown(let c, let m, _): return (c, m)
        }
        return (UInt16(raw >> 16), UInt16(raw & 0xFFFF))
    }
}

// MARK: - Decoding

extension AMQPMethod {
    /// Decodes a method frame's payload (class id, method id, arguments).
    static func decode(from buffer: inout ByteBuffer) throws(AMQPWireError) -> AMQPMethod {
        guard let (classID, methodID) = buffer.readMultipleIntegers(as: (UInt16, UInt16).self) else {
            throw .truncated("method id")
        }
        guard let id = ID(rawValue: UInt32(classID) << 16 | UInt32(methodID)) else {
            return .unknown(classID: classID, methodID: methodID, arguments: buffer.readSlice(length: buffer.readableBytes)!)
        }
        func int<I: FixedWidthInteger>(_: I.Type = I.self) throws(AMQPWireError) -> I {
            guard let value = buffer.readInteger(as: I.self) else { throw .truncated("\(id)") }
            return value
        }
        func bits() throws(AMQPWireError) -> UInt8 { try int(UInt8.self) }
        func short() throws(AMQPWireError) -> String { try buffer.readShortString() }
        func close() throws(AMQPWireError) -> CloseReason {
            CloseReason(replyCode: try int(), replyText: try short(), classID: try int(), methodID: try int())
        }
        switch id {
        case .connectionStart:
            return .connectionStart(
                Start(
                    versionMajor: try int(),
                    versionMinor: try int(),
                    serverProperties: try buffer.readFieldTable(),
                    mechanisms: try buffer.readLongString(),
                    locales: try buffer.readLongString()
                )
            )
        case .connectionStartOk:
            return .connectionStartOk(
                StartOk(
                    clientProperties: try buffer.readFieldTable(),
                    mechanism: try short(),
                    response: try buffer.readLongString(),
                    locale: try short()
                )
            )
        case .connectionSecure: return .connectionSecure(challenge: try buffer.readLongString())
        case .connectionSecureOk: return .connectionSecureOk(response: try buffer.readLongString())
        case .connectionTune: return .connectionTune(Tune(channelMax: try int(), frameMax: try int(), heartbeat: try int()))
        case .connectionTuneOk: return .connectionTuneOk(Tune(channelMax: try int(), frameMax: try int(), heartbeat: try int()))
        case .connectionOpen:
            let vhost = try short()
            _ = try short()
            _ = try bits()
            return .connectionOpen(virtualHost: vhost)
        case .connectionOpenOk:
            _ = try short()
            return .connectionOpenOk
        case .connectionClose: return .connectionClose(try close())
        case .connectionCloseOk: return .connectionCloseOk
        case .connectionBlocked: return .connectionBlocked(reason: try short())
        case .connectionUnblocked: return .connectionUnblocked
        case .channelOpen:
            _ = try short()
            return .channelOpen
        case .channelOpenOk:
            _ = try buffer.readLongStringBytes()
            return .channelOpenOk
        case .channelFlow: return .channelFlow(active: try bits() & 1 != 0)
        case .channelFlowOk: return .channelFlowOk(active: try bits() & 1 != 0)
        case .channelClose: return .channelClose(try close())
        case .channelCloseOk: return .channelCloseOk
        case .exchangeDeclare:
            _ = try int(UInt16.self)
            let exchange = try short()
            let type = try short()
            let flags = try bits()
            return .exchangeDeclare(
                ExchangeDeclare(
                    exchange: exchange,
                    type: type,
                    passive: flags & 1 != 0,
                    durable: flags & 2 != 0,
                    autoDelete: flags & 4 != 0,
                    internal: flags & 8 != 0,
                    arguments: try buffer.readFieldTable()
                )
            )
        case .exchangeDeclareOk: return .exchangeDeclareOk
        case .queueDeclare:
            _ = try int(UInt16.self)
            let queue = try short()
            let flags = try bits()
            return .queueDeclare(
                QueueDeclare(
                    queue: queue,
                    passive: flags & 1 != 0,
                    durable: flags & 2 != 0,
                    exclusive: flags & 4 != 0,
                    autoDelete: flags & 8 != 0,
                    noWait: flags & 16 != 0,
                    arguments: try buffer.readFieldTable()
                )
            )
        case .queueDeclareOk:
            return .queueDeclareOk(QueueDeclareOk(queue: try short(), messageCount: try int(), consumerCount: try int()))
        case .queueBind:
            _ = try int(UInt16.self)
            let queue = try short()
            let exchange = try short()
            let key = try short()
            _ = try bits()
            return .queueBind(QueueBind(queue: queue, exchange: exchange, routingKey: key, arguments: try buffer.readFieldTable()))
        case .queueBindOk: return .queueBindOk
        case .queuePurge:
            _ = try int(UInt16.self)
            let queue = try short()
            _ = try bits()
            return .queuePurge(queue: queue)
        case .queuePurgeOk: return .queuePurgeOk(messageCount: try int())
        case .queueDelete:
            _ = try int(UInt16.self)
            let queue = try short()
            let flags = try bits()
            return .queueDelete(queue: queue, ifUnused: flags & 1 != 0, ifEmpty: flags & 2 != 0)
        case .queueDeleteOk: return .queueDeleteOk(messageCount: try int())
        case .basicQos: return .basicQos(prefetchSize: try int(), prefetchCount: try int(), global: try bits() & 1 != 0)
        case .basicQosOk: return .basicQosOk
        case .basicConsume:
            _ = try int(UInt16.self)
            let queue = try short()
            let tag = try short()
            let flags = try bits()
            return .basicConsume(
                Consume(
                    queue: queue,
                    consumerTag: tag,
                    noLocal: flags & 1 != 0,
                    noAck: flags & 2 != 0,
                    exclusive: flags & 4 != 0,
                    arguments: try buffer.readFieldTable()
                )
            )
        case .basicConsumeOk: return .basicConsumeOk(consumerTag: try short())
        case .basicCancel: return .basicCancel(consumerTag: try short(), noWait: try bits() & 1 != 0)
        case .basicCancelOk: return .basicCancelOk(consumerTag: try short())
        case .basicPublish:
            _ = try int(UInt16.self)
            let exchange = try short()
            let key = try short()
            let flags = try bits()
            return .basicPublish(Publish(exchange: exchange, routingKey: key, mandatory: flags & 1 != 0, immediate: flags & 2 != 0))
        case .basicReturn:
            return .basicReturn(Return(replyCode: try int(), replyText: try short(), exchange: try short(), routingKey: try short()))
        case .basicDeliver:
            return .basicDeliver(
                Deliver(
                    consumerTag: try short(),
                    deliveryTag: try int(),
                    redelivered: try bits() & 1 != 0,
                    exchange: try short(),
                    routingKey: try short()
                )
            )
        case .basicAck: return .basicAck(deliveryTag: try int(), multiple: try bits() & 1 != 0)
        case .basicReject: return .basicReject(deliveryTag: try int(), requeue: try bits() & 1 != 0)
        case .basicNack:
            let tag: UInt64 = try int()
            let flags = try bits()
            return .basicNack(deliveryTag: tag, multiple: flags & 1 != 0, requeue: flags & 2 != 0)
        case .basicRecover: return .basicRecover(requeue: try bits() & 1 != 0)
        case .basicRecoverOk: return .basicRecoverOk
        case .confirmSelect: return .confirmSelect(noWait: try bits() & 1 != 0)
        case .confirmSelectOk: return .confirmSelectOk
        case .basicGet, .basicGetOk, .basicGetEmpty:
            return .unknown(classID: classID, methodID: methodID, arguments: buffer.readSlice(length: buffer.readableBytes)!)
        }
    }
}

// MARK: - Encoding

extension ByteBuffer {
    mutating func writeMethod(_ method: AMQPMethod) {
        let (classID, methodID) = method.id
        writeMultipleIntegers(classID, methodID)
        func bits(_ flags: Bool...) {
            var value: UInt8 = 0
            for (index, flag) in flags.enumerated() where flag { value |= 1 << index }
            writeInteger(value)
        }
        func close(_ r: CloseReason) {
            writeInteger(r.replyCode)
            writeShortString(r.replyText)
            writeMultipleIntegers(r.classID, r.methodID)
        }
        let ticket = UInt16(0)
        switch method {
        case .connectionStart(let s):
            writeMultipleIntegers(s.versionMajor, s.versionMinor)
            writeFieldTable(s.serverProperties)
            writeLongString(s.mechanisms)
            writeLongString(s.locales)
        case .connectionStartOk(let s):
            writeFieldTable(s.clientProperties)
            writeShortString(s.mechanism)
            writeLongString(s.response)
            writeShortString(s.locale)
        case .connectionSecure(let s): writeLongString(s)
        case .connectionSecureOk(let s): writeLongString(s)
        case .connectionTune(let t), .connectionTuneOk(let t): writeMultipleIntegers(t.channelMax, t.frameMax, t.heartbeat)
        case .connectionOpen(let vhost):
            writeShortString(vhost)
            writeShortString("")
            bits(false)
        case .connectionOpenOk: writeShortString("")
        case .connectionClose(let r), .channelClose(let r): close(r)
        case .connectionCloseOk, .connectionUnblocked, .channelCloseOk, .exchangeDeclareOk, .queueBindOk, .basicQosOk,
            .basicRecoverOk, .confirmSelectOk:
            break
        case .connectionBlocked(let reason): writeShortString(reason)
        case .channelOpen: writeShortString("")
        case .channelOpenOk: writeInteger(UInt32(0))
        case .channelFlow(let active), .channelFlowOk(let active): bits(active)
        case .exchangeDeclare(let e):
            writeInteger(ticket)
            writeShortString(e.exchange)
            writeShortString(e.type)
            bits(e.passive, e.durable, e.autoDelete, e.internal, false)
            writeFieldTable(e.arguments)
        case .queueDeclare(let q):
            writeInteger(ticket)
            writeShortString(q.queue)
            bits(q.passive, q.durable, q.exclusive, q.autoDelete, q.noWait)
            writeFieldTable(q.arguments)
        case .queueDeclareOk(let q):
            writeShortString(q.queue)
            writeMultipleIntegers(q.messageCount, q.consumerCount)
        case .queueBind(let b):
            writeInteger(ticket)
            writeShortString(b.queue)
            writeShortString(b.exchange)
            writeShortString(b.routingKey)
            bits(false)
            writeFieldTable(b.arguments)
        case .queuePurge(let queue):
            writeInteger(ticket)
            writeShortString(queue)
            bits(false)
        case .queuePurgeOk(let count), .queueDeleteOk(let count): writeInteger(count)
        case .queueDelete(let queue, let ifUnused, let ifEmpty):
            writeInteger(ticket)
            writeShortString(queue)
            bits(ifUnused, ifEmpty, false)
        case .basicQos(let size, let count, let global):
            writeMultipleIntegers(size, count)
            bits(global)
        case .basicConsume(let c):
            writeInteger(ticket)
            writeShortString(c.queue)
            writeShortString(c.consumerTag)
            bits(c.noLocal, c.noAck, c.exclusive, false)
            writeFieldTable(c.arguments)
        case .basicConsumeOk(let tag), .basicCancelOk(let tag): writeShortString(tag)
        case .basicCancel(let tag, let noWait):
            writeShortString(tag)
            bits(noWait)
        case .basicPublish(let p):
            writeInteger(ticket)
            writeShortString(p.exchange)
            writeShortString(p.routingKey)
            bits(p.mandatory, p.immediate)
        case .basicReturn(let r):
            writeInteger(r.replyCode)
            writeShortString(r.replyText)
            writeShortString(r.exchange)
            writeShortString(r.routingKey)
        case .basicDeliver(let d):
            writeShortString(d.consumerTag)
            writeInteger(d.deliveryTag)
            bits(d.redelivered)
            writeShortString(d.exchange)
            writeShortString(d.routingKey)
        case .basicAck(let tag, let multiple):
            writeInteger(tag)
            bits(multiple)
        case .basicReject(let tag, let requeue):
            writeInteger(tag)
            bits(requeue)
        case .basicNack(let tag, let multiple, let requeue):
            writeInteger(tag)
            bits(multiple, requeue)
        case .basicRecover(let requeue): bits(requeue)
        case .confirmSelect(let noWait): bits(noWait)
        case .unknown(_, _, let arguments): writeImmutableBuffer(arguments)
        }
    }
}
