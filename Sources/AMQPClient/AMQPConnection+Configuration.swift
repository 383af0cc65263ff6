/// How to connect and what to negotiate.
extension AMQPConnection {
    public struct Configuration: Sendable {
        // MARK: Member variables
        /// PLAIN user name. Default `guest`.
        public var username: String
        /// PLAIN password. Default `guest`.
        public var password: String
        /// Default `/`.
        public var virtualHost: String
        /// The largest frame we accept, overhead included; 0 accepts the broker's. Default 131072 (RabbitMQ's default).
        public var frameMax: UInt32
        /// Default 2047 (RabbitMQ's default).
        public var channelMax: UInt16
        /// Requested heartbeat interval in seconds; the smaller of ours and the broker's wins; 0 disables. Default 60.
        public var heartbeat: UInt16
        /// Time to have the connection open (TCP, negotiation). Default 10 s.
        public var connectTimeout: Duration
        /// Sent as `connection_name` in the client properties (shown by the RabbitMQ management UI).
        public var connectionName: String?

        // MARK: Initialization
        public init(
            username: String = "guest",
            password: String = "guest",
            virtualHost: String = "/",
            frameMax: UInt32 = 131_072,
            channelMax: UInt16 = 2047,
            heartbeat: UInt16 = 60,
            connectTimeout: Duration = .seconds(10),
            connectionName: String? = nil
        ) {
            self.username = username
            self.password = password
            self.virtualHost = virtualHost
            self.frameMax = frameMax
            self.channelMax = channelMax
            self.heartbeat = heartbeat
            self.connectTimeout = connectTimeout
            self.connectionName = connectionName
        }

        var stateMachineConfiguration: ConnectionStateMachine.Configuration {
            var properties: AMQPFieldTable = [
                "product": .string("pixl-imaging AMQPClient"),
                "platform": .string("Swift"),
                "capabilities": .table([
                    "publisher_confirms": .bool(true),
                    "consumer_cancel_notify": .bool(true),
                    "basic.nack": .bool(true),
                    "connection.blocked": .bool(true),
                    "authentication_failure_close": .bool(true),
                ]),
            ]
            if let connectionName { properties["connection_name"] = .string(connectionName) }
            return .init(
                username: username,
                password: password,
                virtualHost: virtualHost,
                frameMax: frameMax,
                channelMax: channelMax,
                heartbeat: heartbeat,
                clientProperties: properties
            )
        }
    }
}
