public import Foundation
public import Logging

/// Everything the service reads from its environment (SPEC §6), checked once at start-up.
public struct PixlConfiguration: Sendable {
    /// orthanc-raw, the Orthanc server inside the pipeline that pulls and holds studies.
    public struct OrthancServer: Sendable {
        public var url: URL
        public var username: String?
        /// Secret: never logged.
        public var password: String?
        public var aeTitle: String
    }

    /// An archive, as a modality configured in orthanc-raw.
    public struct DicomSource: Sendable, Hashable {
        public var modality: String
        public var aeTitle: String
    }

    public struct API: Sendable {
        public var host: String
        public var port: Int
        /// Secret: never logged. When set, every endpoint but `/heart-beat` and `/metrics` needs it.
        public var token: String?
        /// A connection that sends nothing for this long (a request never finished, a client gone) is closed.
        public var idleTimeout: Duration
        /// `PIXL_UI_SHOW_IDENTIFIERS`: the web console shows MRNs and accession numbers instead of masking them.
        public var consoleShowsIdentifiers: Bool
    }

    public struct RabbitMQ: Sendable {
        public var host: String
        public var port: Int
        public var username: String
        /// Secret: never logged.
        public var password: String
        /// The queue to consume (RABBITMQ_QUEUE, default `imaging`, PIXL's).
        public var queue: String
    }

    // MARK: Member variables

    public var orthancRaw: OrthancServer
    public var primary: DicomSource
    /// `nil` when no secondary archive is configured.
    public var secondary: DicomSource?
    /// How long a C-MOVE or modify job may run once Orthanc has started it (PIXL_DICOM_TRANSFER_TIMEOUT, 240 s).
    public var transferTimeout: Duration
    /// How long a worker's claim on a job lasts before another worker (or the next start, after a crash)
    /// may take the job over; renewed every third of it while the job runs (PIXL_JOB_LEASE_SECONDS,
    /// default the transfer timeout, at least 60 s).
    public var jobLease: Duration
    /// How long one REST call to Orthanc may take, queries included (PIXL_QUERY_TIMEOUT, 10 s).
    public var queryTimeout: Duration
    public var maxMessagesInFlight: Int
    /// The primary archive's lane: its rate, jobs in flight, window, calendar, breaker and adaptive rate (issue 13).
    public var primaryLane: LaneSettings
    /// The secondary archive's lane; idle when no secondary archive is configured.
    public var secondaryLane: LaneSettings
    /// How the lanes share their claims between projects (`PIXL_PROJECT_WEIGHTS`).
    public var projectWeights: ProjectWeights
    /// Pull a secondary study whose availability is not reported only when this is false.
    public var requireOnline: Bool
    public var autorouteToAnon: Bool
    public var anonModality: String
    /// Attempts before a job that keeps meeting transient faults ends failed.
    public var maxAttempts: Int
    /// The most studies one message may match (PIXL_MAX_STUDIES_PER_MESSAGE, 10, from 1 to 1000): a
    /// message matching more ends failed, pulling nothing, since one bad row must not pull an archive.
    public var maxStudiesPerMessage: Int
    public var logLevel: Logger.Level
    /// Print MRN and accession number at info level (PIXL_LOG_IDENTIFIERS); off by default.
    public var logIdentifiers: Bool
    /// SKIP_ALEMBIC: do not run migrations at start.
    public var skipMigrations: Bool
    public var api: API
    public var rabbitMQ: RabbitMQ?

    // MARK: Initialization

    /// Reads and checks every variable.
    /// - Throws: ``ConfigurationError`` naming the first variable that is missing or invalid.
    public init(environment env: Environment) throws(ConfigurationError) {
        orthancRaw = OrthancServer(
            url: try env.url("ORTHANC_RAW_URL"),
            username: env["ORTHANC_RAW_USERNAME"],
            password: env["ORTHANC_RAW_PASSWORD"],
            aeTitle: try Self.aeTitle(env, "ORTHANC_RAW_AE_TITLE")
        )
        primary = DicomSource(
            modality: try env.requiredString("PRIMARY_DICOM_SOURCE_MODALITY"),
            aeTitle: try Self.aeTitle(env, "PRIMARY_DICOM_SOURCE_AE_TITLE")
        )
        if let modality = env["SECONDARY_DICOM_SOURCE_MODALITY"] {
            secondary = DicomSource(modality: modality, aeTitle: try Self.aeTitle(env, "SECONDARY_DICOM_SOURCE_AE_TITLE"))
        }
        transferTimeout = try env.seconds("PIXL_DICOM_TRANSFER_TIMEOUT", default: 240, range: Self.transferTimeouts)
        queryTimeout = try env.seconds("PIXL_QUERY_TIMEOUT", default: 10, range: Self.queryTimeouts)
        jobLease = try env.seconds("PIXL_JOB_LEASE_SECONDS", default: max(transferTimeout.seconds, 60), range: Self.leases)
        maxMessagesInFlight = try env.integer("PIXL_MAX_MESSAGES_IN_FLIGHT", default: 5, range: 1...1000)
        let zoneName = env.string("TZ", default: "Europe/London")
        // Foundation also reads POSIX strings such as `UTC+5`, with the sign the other way round from what most read.
        guard TimeZone.knownTimeZoneIdentifiers.contains(zoneName) || zoneName == "UTC", let timeZone = TimeZone(identifier: zoneName) else {
            throw ConfigurationError(variable: "TZ", problem: "must be an IANA time zone name such as Europe/London, not '\(zoneName)'")
        }
        requireOnline = try env.bool("PIXL_REQUIRE_ONLINE", default: true)
        autorouteToAnon = try env.bool("ORTHANC_AUTOROUTE_RAW_TO_ANON", default: false)
        anonModality = env.string("ORTHANC_ANON_MODALITY", default: "PIXL-Anon")
        maxAttempts = try env.integer("PIXL_MAX_ATTEMPTS", default: 10, range: 1...1000)
        maxStudiesPerMessage = try env.integer("PIXL_MAX_STUDIES_PER_MESSAGE", default: 10, range: 1...1000)
        let levelText = env.string("LOG_LEVEL", default: "INFO")
        guard let level = Logger.Level(rawValue: levelText.lowercased()) ?? (levelText.uppercased() == "WARNING" ? .warning : nil) else {
            throw ConfigurationError(variable: "LOG_LEVEL", problem: "must be one of TRACE, DEBUG, INFO, NOTICE, WARNING, ERROR, CRITICAL, not '\(levelText)'")
        }
        logLevel = level
        logIdentifiers = try env.bool("PIXL_LOG_IDENTIFIERS", default: false)
        skipMigrations = try env.bool("SKIP_ALEMBIC", default: false)
        let rate = try Self.rate(env, "PIXL_IMAGING_API_RATE", default: 0)
        primaryLane = try Self.lane(.primary, env, rate: rate, maxInFlight: maxMessagesInFlight, hours: "always", timeZone: timeZone)
        secondaryLane = try Self.lane(.secondary, env, rate: rate, maxInFlight: maxMessagesInFlight, hours: "20:00-08:00", timeZone: timeZone)
        projectWeights = try env["PIXL_PROJECT_WEIGHTS"].map { text throws(ConfigurationError) in
            try ProjectWeights(parsing: text, variable: "PIXL_PROJECT_WEIGHTS")
        } ?? ProjectWeights()
        // Set but empty would silently mean "no authentication".
        if env.values["PIXL_IMAGING_API_TOKEN"]?.trimmingWhitespace().isEmpty == true {
            throw ConfigurationError(variable: "PIXL_IMAGING_API_TOKEN", problem: "is empty: set a token, or unset it to run without authentication")
        }
        api = API(
            host: env.string("PIXL_IMAGING_API_HOST", default: "127.0.0.1"),
            port: try env.integer("PIXL_IMAGING_API_PORT", default: 8000, range: 0...65535),
            token: env["PIXL_IMAGING_API_TOKEN"],
            idleTimeout: try env.seconds("PIXL_IMAGING_API_IDLE_TIMEOUT", default: 30, range: 1...3_600),
            consoleShowsIdentifiers: try env.bool("PIXL_UI_SHOW_IDENTIFIERS", default: false)
        )
        if let host = env["RABBITMQ_HOST"] {
            rabbitMQ = RabbitMQ(
                host: host,
                port: try env.integer("RABBITMQ_PORT", default: 5672, range: 1...65535),
                username: env.string("RABBITMQ_USERNAME", default: "guest"),
                password: env.string("RABBITMQ_PASSWORD", default: "guest"),
                queue: try Self.queueName(env)
            )
        }
    }

    /// A rate in messages per second: finite, not negative.
    private static func rate(_ env: Environment, _ name: String, default defaultRate: Double) throws(ConfigurationError) -> Double {
        guard let text = env[name] else { return defaultRate }
        guard let rate = Environment.decimal(text), RateLimits.allows(rate) else {
            throw ConfigurationError(variable: name, problem: "must be \(RateLimits.description), not '\(text)'")
        }
        return rate
    }

    /// One lane's settings, `PIXL_<LANE>_…`; its rate and jobs in flight default to the service's.
    private static func lane(
        _ lane: Lane,
        _ env: Environment,
        rate: Double,
        maxInFlight: Int,
        hours defaultHours: String,
        timeZone: TimeZone
    ) throws(ConfigurationError) -> LaneSettings {
        let prefix = lane.variablePrefix
        let hoursText = env.string(prefix + "QUERY_HOURS", default: defaultHours)
        guard let hours = QueryWindow.parseHours(hoursText) else {
            throw ConfigurationError(variable: prefix + "QUERY_HOURS", problem: "must be HH:MM-HH:MM, always or never, not '\(hoursText)'")
        }
        let window = QueryWindow(hours: hours, includesWeekends: try env.bool(prefix + "QUERY_WEEKENDS", default: false), timeZone: timeZone)
        let calendar = try env[prefix + "CALENDAR"].map { path throws(ConfigurationError) in
            // The logger is made when a problem comes, after start-up has set up logging.
            try CalendarFile(
                path: path, variable: prefix + "CALENDAR",
                onProblem: { problem in Logger(label: "pixl-imaging").warning("calendar not re-read, keeping the closed days last read: \(problem)") }
            )
        }
        var adaptive: AdaptiveRateSettings?
        if try env.bool(prefix + "ADAPTIVE", default: false) {
            adaptive = AdaptiveRateSettings(
                findTarget: try env.seconds(prefix + "FIND_TARGET", default: 2, range: 0.01...3_600),
                moveTarget: try env.seconds(prefix + "MOVE_TARGET", default: 60, range: 0.01...86_400)
            )
        }
        return LaneSettings(
            rate: try Self.rate(env, prefix + "RATE", default: rate),
            maxInFlight: try env.integer(prefix + "MAX_IN_FLIGHT", default: maxInFlight, range: 1...1000),
            timetable: LaneTimetable(window: window, calendar: calendar),
            breaker: CircuitBreakerSettings(
                faults: try env.integer(prefix + "BREAKER_FAULTS", default: 5, range: 0...1000),
                backoff: try env.seconds(prefix + "BREAKER_BACKOFF", default: 30, range: 0.01...86_400)
            ),
            adaptive: adaptive
        )
    }

    /// An AE title: 1 to 16 characters of printable ASCII without backslash.
    private static func aeTitle(_ env: Environment, _ name: String) throws(ConfigurationError) -> String {
        let value = try env.requiredString(name)
        guard value.count <= 16, value.allSatisfy({ $0.isASCII && !$0.isNewline && $0 != "\\" }) else {
            throw ConfigurationError(variable: name, problem: "must be a DICOM AE title of at most 16 ASCII characters")
        }
        return value
    }

    /// PIXL_DICOM_TRANSFER_TIMEOUT: a second to a day.
    public static let transferTimeouts: ClosedRange<Double> = 1...86_400
    /// PIXL_QUERY_TIMEOUT: a tenth of a second to an hour.
    public static let queryTimeouts: ClosedRange<Double> = 0.1...3_600
    /// PIXL_JOB_LEASE_SECONDS: a second to a day.
    public static let leases: ClosedRange<Double> = 1...86_400

    /// RABBITMQ_QUEUE: an AMQP short string, 1 to 255 bytes.
    private static func queueName(_ env: Environment) throws(ConfigurationError) -> String {
        let queue = env.string("RABBITMQ_QUEUE", default: "imaging")
        guard queue.utf8.count <= 255 else { throw ConfigurationError(variable: "RABBITMQ_QUEUE", problem: "must be at most 255 bytes long") }
        return queue
    }

    /// A lane's settings.
    public func settings(of lane: Lane) -> LaneSettings {
        switch lane {
        case .primary: primaryLane
        case .secondary: secondaryLane
        }
    }

    /// Whether a secondary archive distinct from the primary one is configured.
    public var hasDistinctSecondary: Bool {
        guard let secondary else { return false }
        return secondary.aeTitle != primary.aeTitle
    }
}
