public import AMQPClient
import Foundation
public import Logging
public import PixlCore
public import ServiceLifecycle
import NIOCore
import Synchronization

extension JobState {
    /// Whether the store now owns the job durably (final, or scheduled for later), so its delivery may be acknowledged.
    public var releasesDelivery: Bool {
        switch self {
        case .succeeded, .discarded, .failed, .retry, .deferred: true
        case .queued, .inProgress: false
        }
    }
}

/// Consumes PIXL's RabbitMQ queue into the job store (SPEC §4).
///
/// Each delivery (plain JSON or PIXL's wire form) is decoded. A body that is not a valid message is rejected
/// without requeue, so the broker dead-letters it where the operator's policy says, and logged at warning with the
/// field and the problem only (never a value). A valid message is enqueued in the store first, and its delivery is
/// kept unacknowledged until the job is final or scheduled for later; only then is it acknowledged. So at most
/// `prefetch` deliveries are unacknowledged and the queue keeps showing the work not yet started (what
/// `pixl stop --purge` purges). A W3C `traceparent` in the message's headers is stored with its job
/// (``AMQPClient/AMQPProperties/traceContext``), whose span continues that trace.
///
/// Job states come from the local worker pool (``JobEvent/recorded(_:)``, prompt) and from a periodic look at the
/// store for the pending deliveries' jobs (other replicas may process them). Each enqueue is published as
/// ``JobEvent/enqueued(newJobs:)``, which wakes the worker pool. A delivery redelivered after a crash or a
/// broker restart dedupes through ``JobStore/enqueue(_:now:)`` while its job is unfinished, and through
/// ``JobStore/latestJob(for:)`` once it finished (its acknowledgement was lost): it is acknowledged, not run again.
///
/// The connection is re-made with backoff after a loss; the queue is declared passively (so arguments such as PIXL's
/// `x-max-priority: 5` are never contradicted), or durable without arguments when it does not exist. On graceful
/// shutdown the consumer is cancelled and the connection closed: unacknowledged deliveries go back to the queue.
public final class AMQPIntake<Store: JobStore>: Service {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        public var username: String
        /// Secret: never logged.
        public var password: String
        /// The queue to consume. Default `imaging` (PIXL's).
        public var queue: String
        /// `basic.qos` prefetch: the most deliveries held unacknowledged (PIXL_MAX_MESSAGES_IN_FLIGHT).
        public var prefetch: Int
        /// How often the store is asked about the pending deliveries' jobs. Default 1 s.
        public var statusPoll: Duration
        /// Reconnection backoff. Default 100 ms doubling to 5 s.
        public var backoff: AMQPReconnectingConsumer.Backoff
        /// Requested AMQP heartbeat in seconds. Default 30.
        public var heartbeat: UInt16

        public init(
            host: String,
            port: Int = 5672,
            username: String = "guest",
            password: String = "guest",
            queue: String = "imaging",
            prefetch: Int,
            statusPoll: Duration = .seconds(1),
            backoff: AMQPReconnectingConsumer.Backoff = .init(),
            heartbeat: UInt16 = 30
        ) {
            self.host = host
            self.port = port
            self.username = username
            self.password = password
            self.queue = queue
            self.prefetch = prefetch
            self.statusPoll = statusPoll
            self.backoff = backoff
            self.heartbeat = heartbeat
        }

        /// From the service's configuration: `RABBITMQ_*` and PIXL_MAX_MESSAGES_IN_FLIGHT as prefetch.
        public init(_ rabbitMQ: PixlConfiguration.RabbitMQ, prefetch: Int) {
            self.init(
                host: rabbitMQ.host,
                port: rabbitMQ.port,
                username: rabbitMQ.username,
                password: rabbitMQ.password,
                queue: rabbitMQ.queue,
                prefetch: prefetch
            )
        }
    }

    // MARK: Member variables

    let store: Store
    let configuration: Configuration
    let events: JobEvents
    /// Ids of jobs the local workers recorded in a state that releases their deliveries, heard from ``events``.
    private let releasedJobs: AsyncStream<UUID>
    let metrics: any PipelineMetrics
    let logger: Logger
    /// Deliveries waiting for their job to be final or scheduled, by job id (identical messages share a job).
    private let pending = Mutex<[UUID: [AMQPDelivery]]>([:])
    private let connections = Atomic<Int>(0)
    private let connected = Atomic<Bool>(false)
    private let refusedCount = Atomic<Int>(0)

    // MARK: Initialization

    /// - Parameter events: where enqueues are published and the local workers' recorded jobs heard.
    public init(
        store: Store,
        configuration: Configuration,
        events: JobEvents,
        metrics: any PipelineMetrics = NoPipelineMetrics(),
        logger: Logger
    ) {
        self.store = store
        self.configuration = configuration
        self.events = events
        self.metrics = metrics
        self.logger = logger
        let (releasedJobs, released) = AsyncStream.makeStream(of: UUID.self, bufferingPolicy: .bufferingNewest(4096))
        self.releasedJobs = releasedJobs
        events.subscribe { event in
            if case .recorded(let job) = event, job.state.releasesDelivery { released.yield(job.id) }
        }
    }

    // MARK: Methods

    /// Deliveries held unacknowledged now.
    public var unacknowledgedDeliveries: Int {
        pending.withLock { $0.values.reduce(0) { $0 + $1.count } }
    }

    /// Connections made so far (1 after the first connect; more after reconnections).
    public var connectionCount: Int { connections.load(ordering: .relaxed) }

    /// How many times the broker refused the intake (credentials, the queue's declaration) since it started.
    public var refusals: Int { refusedCount.load(ordering: .relaxed) }

    /// Whether the intake is connected to the broker now.
    public var isConnected: Bool { connected.load(ordering: .relaxed) }

    public func run() async throws {
        let queue = configuration.queue
        let logger = self.logger
        let consumer = AMQPReconnectingConsumer(
            host: configuration.host,
            port: configuration.port,
            configuration: .init(
                username: configuration.username,
                password: configuration.password,
                heartbeat: configuration.heartbeat,
                connectionName: "pixl-imaging intake"
            ),
            queue: queue,
            prefetch: UInt16(clamping: configuration.prefetch),
            backoff: configuration.backoff,
            logger: logger,
            onConnect: { [self] count in
                self.connections.store(count, ordering: .relaxed)
                self.connected.store(true, ordering: .relaxed)
            },
            declare: { channel in try await Self.declareQueue(queue, on: channel.connection, logger: logger) },
            onDisconnect: { [self] in self.connected.store(false, ordering: .relaxed) }
        )
        logger.info("consuming RabbitMQ queue", metadata: ["amqp.queue": "\(queue)", "amqp.prefetch": "\(configuration.prefetch)"])
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                // Across reconnections: the recorded jobs' ids are one stream, iterated once.
                group.addTask { await self.followRecordedJobs() }
                group.addTask { await self.pollStore() }
                defer { group.cancelAll() }
                try await cancelWhenGracefulShutdown { try await self.consume(from: consumer) }
            }
        } catch is CancellationError {
            // Graceful shutdown or cancellation: nothing to report.
        }
        connected.store(false, ordering: .relaxed)
        logger.info("stopped consuming RabbitMQ queue", metadata: ["amqp.queue": "\(queue)", "amqp.unacknowledged": "\(unacknowledgedDeliveries)"])
    }

    /// Consumes deliveries until cancelled. A broker that refuses the intake (bad credentials, a queue it will not
    /// declare) is logged and tried again with back-off, from 5 s to 5 minutes: the service, and its HTTP intake, keep
    /// running meanwhile.
    private func consume(from consumer: AMQPReconnectingConsumer) async throws {
        var delay = Duration.seconds(5)
        while true {
            do {
                try await consumer.run { deliveries in
                    for try await delivery in deliveries { await self.handle(delivery) }
                }
                return
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                refusedCount.add(1, ordering: .relaxed)
                logger.error(
                    "RabbitMQ refused the intake; trying again (check RABBITMQ_USERNAME, RABBITMQ_PASSWORD and RABBITMQ_QUEUE)",
                    metadata: ["error": "\(error)", "amqp.queue": "\(configuration.queue)", "amqp.retry_in": "\(delay)"]
                )
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(300))
            }
        }
    }

    /// Declares `queue` passively, so whatever arguments it has are kept; if it does not exist (404, which closes
    /// that channel), declares it durable without arguments on a fresh channel.
    static func declareQueue(_ queue: String, on connection: AMQPConnection, logger: Logger) async throws {
        let probe = try await connection.openChannel()
        do {
            try await probe.declareQueue(queue, passive: true)
            try? await probe.close()
        } catch let error as AMQPError where error.replyCode == AMQPError.ReplyCode.notFound {
            let channel = try await connection.openChannel()
            try await channel.declareQueue(queue, durable: true)
            try? await channel.close()
            logger.notice("declared the RabbitMQ queue, which did not exist", metadata: ["amqp.queue": "\(queue)"])
        }
    }

    /// Decodes one delivery; rejects it if invalid, else enqueues it and holds or acknowledges it.
    func handle(_ delivery: AMQPDelivery) async {
        var message: ImagingMessage
        do {
            message = try MessageDecoder.decode(delivery.body.readableBytesView)
        } catch {
            metrics.recordRejectedMessage(source: "amqp")
            // The error names the field and the problem, never a value.
            logger.warning(
                "rejected a RabbitMQ message that is not a valid message (dead-lettered where a policy says so)",
                metadata: ["pixl.message.problem": "\(error)", "amqp.queue": "\(configuration.queue)", "amqp.redelivered": "\(delivery.redelivered)"]
            )
            do {
                try await delivery.reject(requeue: false)
            } catch {
                logger.debug("cannot reject a delivery; the broker will redeliver it", metadata: ["error": "\(error)"])
            }
            return
        }
        // PIXL's CLI sends the priority as the AMQP message's (`populate --priority`, 1 to 5; 0 or none: the default).
        if let priority = delivery.properties.priority, priority > 0 {
            message.priority = min(Int(priority), Int(ImagingMessage.priorities.upperBound))
        }
        message.traceContext = delivery.properties.traceContext
        if delivery.redelivered, let done = try? await store.latestJob(for: message.identity), done.state.isFinal {
            logger.debug("redelivered message whose job finished: acknowledged", metadata: [LogKey.jobID: "\(done.id.uuidString.lowercased())"])
            await acknowledge([delivery])
            return
        }
        guard let enqueued = await enqueue(message) else { return }  // cancelled: the broker gets it back at close
        let job = enqueued.job
        events.publish(.enqueued(newJobs: enqueued.isNew ? 1 : 0))
        logger.debug("message enqueued", metadata: [LogKey.jobID: "\(job.id.uuidString.lowercased())", "amqp.redelivered": "\(delivery.redelivered)"])
        if job.state.releasesDelivery {
            await acknowledge([delivery])
            return
        }
        pending.withLock { $0[job.id, default: []].append(delivery) }
        // A worker may have recorded the job between the enqueue and now, before we listened for it.
        if let current = try? await store.job(id: job.id), current.state.releasesDelivery {
            await release(job.id)
        }
    }

    /// Enqueues, retrying with backoff while the store fails (the delivery stays unacknowledged meanwhile).
    private func enqueue(_ message: ImagingMessage) async -> EnqueuedJob? {
        var delay = Duration.milliseconds(100)
        while !Task.isCancelled {
            do {
                return try await store.enqueue([message], now: Date()).first
            } catch {
                logger.error("cannot store a message from RabbitMQ; trying again", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
        return nil
    }

    /// Acknowledges the deliveries held for `id`, if any.
    private func release(_ id: UUID) async {
        let deliveries = pending.withLock { $0.removeValue(forKey: id) } ?? []
        await acknowledge(deliveries)
    }

    private func acknowledge(_ deliveries: [AMQPDelivery]) async {
        for delivery in deliveries {
            do {
                try await delivery.ack()
            } catch {
                // Its connection is gone: the broker redelivers it, and the store dedupes or finds it done.
                logger.debug("cannot acknowledge a delivery from a lost connection", metadata: ["error": "\(error)"])
            }
        }
    }

    private func followRecordedJobs() async {
        for await id in releasedJobs {
            await release(id)
        }
    }

    /// Looks up the pending deliveries' jobs every `statusPoll`; drops deliveries of lost connections.
    private func pollStore() async {
        while (try? await Task.sleep(for: configuration.statusPoll)) != nil {
            let ids = pending.withLock { pending in
                for (id, deliveries) in pending {
                    let live = deliveries.filter { $0.channel.connection.isOpen }
                    pending[id] = live.isEmpty ? nil : live
                }
                return Array(pending.keys)
            }
            for id in ids {
                do {
                    if let job = try await store.job(id: id), job.state.releasesDelivery {
                        await release(id)
                    }
                } catch {
                    logger.warning("cannot look up a job in the store", metadata: ["error": "\(error)"])
                    break
                }
            }
        }
    }
}
