import Foundation
import PixlCore
import Testing

struct PixlConfigurationTests {
    static let minimal: [String: String] = [
        "ORTHANC_RAW_URL": "http://127.0.0.1:8042",
        "ORTHANC_RAW_AE_TITLE": "ORTHANCRAW",
        "PRIMARY_DICOM_SOURCE_MODALITY": "UCPRIMARYQR",
        "PRIMARY_DICOM_SOURCE_AE_TITLE": "VNAQR",
    ]

    @Test func defaultsFollowTheSpecification() throws {
        let configuration = try PixlConfiguration(environment: Environment(Self.minimal))
        #expect(configuration.transferTimeout == .seconds(240))
        #expect(configuration.queryTimeout == .seconds(10))
        #expect(configuration.jobLease == .seconds(240))
        #expect(configuration.maxMessagesInFlight == 5)
        #expect(configuration.secondary == nil)
        #expect(configuration.requireOnline)
        #expect(configuration.api.port == 8000)
        #expect(configuration.primaryLane.rate == 0 && configuration.secondaryLane.rate == 0)
        #expect(configuration.secondaryLane.timetable.window.timeZone.identifier == "Europe/London")
        #expect(configuration.rabbitMQ == nil)
        #expect(configuration.maxStudiesPerMessage == 10)
    }

    @Test func maxStudiesPerMessageIsBounded() throws {
        var values = Self.minimal
        values["PIXL_MAX_STUDIES_PER_MESSAGE"] = "1000"
        #expect(try PixlConfiguration(environment: Environment(values)).maxStudiesPerMessage == 1000)
        values["PIXL_MAX_STUDIES_PER_MESSAGE"] = "1001"
        #expect(throws: ConfigurationError(variable: "PIXL_MAX_STUDIES_PER_MESSAGE", problem: "must be an integer from 1 to 1000, not '1001'")) {
            try PixlConfiguration(environment: Environment(values))
        }
    }

    @Test func jobLeaseFollowsTheTransferTimeoutUnlessSet() throws {
        var values = Self.minimal
        values["PIXL_DICOM_TRANSFER_TIMEOUT"] = "30"
        #expect(try PixlConfiguration(environment: Environment(values)).jobLease == .seconds(60))
        values["PIXL_DICOM_TRANSFER_TIMEOUT"] = "90"
        #expect(try PixlConfiguration(environment: Environment(values)).jobLease == .seconds(90))
        values["PIXL_JOB_LEASE_SECONDS"] = "3"
        #expect(try PixlConfiguration(environment: Environment(values)).jobLease == .seconds(3))
    }

    @Test(arguments: [
        ("ORTHANC_RAW_URL", "not a url"),
        ("PIXL_QUERY_TIMEOUT", "ten"),
        ("PIXL_DICOM_TRANSFER_TIMEOUT", "-1"),
        ("PIXL_MAX_MESSAGES_IN_FLIGHT", "0"),
        ("PIXL_MAX_STUDIES_PER_MESSAGE", "0"),
        ("PIXL_MAX_STUDIES_PER_MESSAGE", "ten"),
        ("PIXL_JOB_LEASE_SECONDS", "0"),
        ("PIXL_JOB_LEASE_SECONDS", "0.5"),
        ("PIXL_JOB_LEASE_SECONDS", "soon"),
        ("TZ", "Mars/Olympus_Mons"),
        ("PIXL_SECONDARY_QUERY_HOURS", "evenings"),
        ("PIXL_PRIMARY_QUERY_HOURS", "9-5"),
        ("PIXL_PRIMARY_QUERY_WEEKENDS", "sometimes"),
        ("PIXL_SECONDARY_RATE", "-1"),
        ("PIXL_PRIMARY_MAX_IN_FLIGHT", "0"),
        ("PIXL_SECONDARY_MAX_IN_FLIGHT", "1001"),
        ("PIXL_SECONDARY_CALENDAR", "/nonexistent/bank-holidays.ics"),
        ("PIXL_PRIMARY_ADAPTIVE", "perhaps"),
        ("PIXL_SECONDARY_BREAKER_FAULTS", "-1"),
        ("PIXL_PROJECT_WEIGHTS", "big-extract=0"),
        ("PIXL_PROJECT_WEIGHTS", "big-extract"),
        ("PIXL_PROJECT_WEIGHTS", "=2"),
        ("PIXL_REQUIRE_ONLINE", "maybe"),
        ("PIXL_IMAGING_API_RATE", "nan"),
        ("LOG_LEVEL", "LOUD"),
        ("PRIMARY_DICOM_SOURCE_AE_TITLE", "AN-AE-TITLE-LONGER-THAN-16"),
    ])
    func invalidValueNamesTheVariable(variable: String, value: String) {
        var values = Self.minimal
        values[variable] = value
        #expect {
            try PixlConfiguration(environment: Environment(values))
        } throws: { error in
            (error as? ConfigurationError)?.variable == variable && "\(error)".hasPrefix(variable)
        }
    }

    /// Issue 11: no number from the environment can make a Duration or a count that traps later. Every value at the
    /// extremes either is in range or stops start-up naming the variable.
    @Test(arguments: [
        "PIXL_QUERY_TIMEOUT", "PIXL_DICOM_TRANSFER_TIMEOUT", "PIXL_JOB_LEASE_SECONDS", "PIXL_IMAGING_API_RATE", "PIXL_PRIMARY_RATE",
        "PIXL_SECONDARY_RATE", "PIXL_PRIMARY_BREAKER_BACKOFF",
    ])
    func numbersAtTheExtremesAreRefusedNamingTheVariable(variable: String) {
        for value in ["5e-324", "1e-30", "1e11", "1e300", "1e400", "-1", "NaN", "inf", "-inf", "x", "0x10", " "] {
            var values = Self.minimal
            values[variable] = value
            do {
                _ = try PixlConfiguration(environment: Environment(values))
                // Only what a blank means (the default) is accepted here.
                #expect(value == " ", "\(variable)=\(value) was accepted")
            } catch {
                #expect(error.variable == variable, "\(variable)=\(value): \(error)")
            }
        }
    }

    @Test func rateIsPausedOrWithinItsBounds() throws {
        for (text, rate) in [("0", 0.0), ("-0", 0.0), ("0.001", 0.001), ("10000", 10_000)] {
            var values = Self.minimal
            values["PIXL_IMAGING_API_RATE"] = text
            #expect(try PixlConfiguration(environment: Environment(values)).primaryLane.rate == rate)
        }
    }

    /// Issue 13: each lane takes the service's rate and jobs in flight unless set on its own; the primary's window is
    /// always open and the secondary's keeps PIXL_SECONDARY_QUERY_HOURS's default.
    @Test func lanesDefaultToTheServiceAndAreSetOneByOne() throws {
        var values = Self.minimal
        values["PIXL_IMAGING_API_RATE"] = "2"
        values["PIXL_MAX_MESSAGES_IN_FLIGHT"] = "7"
        let defaults = try PixlConfiguration(environment: Environment(values))
        #expect(defaults.primaryLane.rate == 2 && defaults.secondaryLane.rate == 2)
        #expect(defaults.primaryLane.maxInFlight == 7 && defaults.secondaryLane.maxInFlight == 7)
        #expect(defaults.primaryLane.timetable.window.hours == .always)
        #expect(defaults.secondaryLane.timetable.window.hours == .range(start: 20 * 60, end: 8 * 60))
        #expect(defaults.primaryLane.adaptive == nil && defaults.primaryLane.breaker == CircuitBreakerSettings())

        values["PIXL_SECONDARY_RATE"] = "0.5"
        values["PIXL_SECONDARY_MAX_IN_FLIGHT"] = "2"
        values["PIXL_PRIMARY_QUERY_HOURS"] = "07:00-19:00"
        values["PIXL_SECONDARY_ADAPTIVE"] = "true"
        values["PIXL_SECONDARY_FIND_TARGET"] = "0.5"
        values["PIXL_PRIMARY_BREAKER_FAULTS"] = "3"
        values["PIXL_PRIMARY_BREAKER_BACKOFF"] = "10"
        values["PIXL_PROJECT_WEIGHTS"] = "big-extract=1, urgent-audit=4"
        let set = try PixlConfiguration(environment: Environment(values))
        #expect(set.primaryLane.rate == 2 && set.secondaryLane.rate == 0.5)
        #expect(set.primaryLane.maxInFlight == 7 && set.secondaryLane.maxInFlight == 2)
        #expect(set.primaryLane.timetable.window.hours == .range(start: 7 * 60, end: 19 * 60))
        #expect(set.secondaryLane.adaptive == AdaptiveRateSettings(findTarget: .seconds(0.5), moveTarget: .seconds(60)))
        #expect(set.primaryLane.breaker.faults == 3 && set.primaryLane.breaker.backoff == .seconds(10))
        #expect(set.projectWeights.weight(of: "urgent-audit") == 4 && set.projectWeights.weight(of: "other") == 1)
    }

    @Test func queueNameFitsAnAMQPShortString() throws {
        var values = Self.minimal
        values["RABBITMQ_HOST"] = "127.0.0.1"
        values["RABBITMQ_QUEUE"] = String(repeating: "q", count: 255)
        #expect(try PixlConfiguration(environment: Environment(values)).rabbitMQ?.queue.count == 255)
        values["RABBITMQ_QUEUE"] = String(repeating: "q", count: 300)
        #expect(throws: ConfigurationError(variable: "RABBITMQ_QUEUE", problem: "must be at most 255 bytes long")) {
            try PixlConfiguration(environment: Environment(values))
        }
    }

    @Test func missingVariableIsNamed() {
        var values = Self.minimal
        values["ORTHANC_RAW_AE_TITLE"] = nil
        #expect(throws: ConfigurationError(variable: "ORTHANC_RAW_AE_TITLE", problem: "is not set")) {
            try PixlConfiguration(environment: Environment(values))
        }
    }

    @Test func dotEnvIsReadAndTheEnvironmentWins() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pixl-env-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try """
        # a comment
        export PIXL_TEST_ONLY_VALUE="from dotenv"
        PATH=not-the-real-path
        """.write(to: directory.appendingPathComponent(".env"), atomically: true, encoding: .utf8)
        let environment = try Environment.load(dotEnvIn: directory)
        #expect(environment["PIXL_TEST_ONLY_VALUE"] == "from dotenv")
        #expect(environment["PATH"] == ProcessInfo.processInfo.environment["PATH"])
    }
}
