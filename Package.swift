// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "pixl-imaging",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "pixl-imaging", targets: ["PixlServer"]),
        // The service as a library (what Benchmarks/ builds on), and the AMQP client, which knows nothing of PIXL.
        .library(
            name: "PixlService",
            targets: ["PixlService", "PixlCore", "PixlOrthanc", "PixlImaging", "PixlDatabase", "PixlAPI", "PixlQueue"]
        ),
        .library(name: "AMQPClient", targets: ["AMQPClient"]),
        // The message, its JSON and the rest of the core alone: what Fuzz/ instruments for libFuzzer (scripts/fuzz).
        .library(name: "PixlCore", targets: ["PixlCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/yaslab/CSV.swift", from: "2.5.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
        // OTLP over HTTP only: the gRPC exporter's dependencies are a build of their own.
        .package(url: "https://github.com/swift-otel/swift-otel", from: "1.6.0", traits: ["OTLPHTTP"]),
    ],
    targets: [
        // A focused AMQP 0-9-1 client on SwiftNIO. Knows nothing of PIXL.
        .target(
            name: "AMQPClient",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Types and ports: the message, configuration, outcomes, the token bucket. No I/O.
        .target(
            name: "PixlCore",
            dependencies: [.product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // The Orthanc REST client (async-http-client).
        .target(
            name: "PixlOrthanc",
            dependencies: [
                "PixlCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        // The archive pipeline of SPEC §3, against the OrthancClient port.
        .target(
            name: "PixlImaging",
            dependencies: [
                "PixlCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        // The RabbitMQ intake (SPEC §4): AMQPClient deliveries into the job store.
        .target(
            name: "PixlQueue",
            dependencies: [
                "PixlCore",
                "AMQPClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Migrations and the job store on SQLite (GRDB) and PostgreSQL (postgres-nio).
        .target(
            name: "PixlDatabase",
            dependencies: [
                "PixlCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The HTTP API of SPEC §5 (Hummingbird), against the JobStore port; metrics (swift-prometheus).
        .target(
            name: "PixlAPI",
            dependencies: [
                "PixlCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "CSV", package: "CSV.swift"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            swiftSettings: swiftSettings
        ),
        // The service assembled from a configuration: store, pool, intake, metrics and the HTTP API as one
        // Hummingbird application. The only code that names concrete adapters, with the executable.
        .target(
            name: "PixlService",
            dependencies: [
                "PixlCore",
                "PixlOrthanc",
                "PixlImaging",
                "PixlDatabase",
                "PixlAPI",
                "PixlQueue",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The executable: commands, logging, the metrics backend and the tracing backend (OpenTelemetry).
        .executableTarget(
            name: "PixlServer",
            dependencies: [
                "PixlService",
                "PixlCore",
                "PixlOrthanc",
                "PixlImaging",
                "PixlDatabase",
                "PixlAPI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Test support shared by the test targets: fakes, clocks, fixtures, the lab's address book, a delaying TCP proxy.
        .target(
            name: "PixlTesting",
            dependencies: [
                "PixlCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PixlCoreTests",
            dependencies: ["PixlCore", "PixlTesting"],
            resources: [.copy("Resources/pixl-messages")],
            swiftSettings: swiftSettings
        ),
        // The Orthanc REST client against answers recorded from the lab's Orthanc 1.10.1 (scripts/record-orthanc-answers).
        .testTarget(
            name: "PixlOrthancTests",
            dependencies: [
                "PixlOrthanc", "PixlCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            resources: [.copy("Resources")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PixlImagingTests",
            dependencies: [
                "PixlImaging", "PixlCore", "PixlTesting",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PixlDatabaseTests",
            dependencies: [
                "PixlDatabase", "PixlCore", "PixlTesting", "PixlImaging",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PixlAPITests",
            dependencies: [
                "PixlAPI", "PixlCore", "PixlTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "CSV", package: "CSV.swift"),
            ],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AMQPClientTests",
            dependencies: [
                "PixlTesting",
                "AMQPClient",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The intake against a real RabbitMQ (scripts/rabbitmq); the end-to-end test also needs the lab.
        .testTarget(
            name: "PixlQueueTests",
            dependencies: [
                "PixlQueue", "PixlCore", "PixlTesting", "AMQPClient", "PixlService", "PixlAPI", "PixlDatabase",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "InMemoryLogging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The service in process, with a fake Orthanc and a real SQLite file: the whole walk from HTTP to the store.
        .testTarget(
            name: "PixlServiceTests",
            dependencies: [
                "PixlService", "PixlAPI", "PixlCore", "PixlDatabase", "PixlTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The executable's own logic: the cohort reader of submit.
        .testTarget(
            name: "PixlServerTests",
            dependencies: ["PixlServer", "PixlCore", "PixlTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PixlTestingTests",
            dependencies: ["PixlTesting", "PixlCore"],
            swiftSettings: swiftSettings
        ),
        // Against the lab of real Orthanc servers (scripts/lab): the pipeline and the service in process, and the
        // pixl-imaging executable for what only a process shows (signals, kill -9).
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "PixlCore", "PixlOrthanc", "PixlImaging", "PixlTesting", "PixlService", "PixlAPI", "PixlDatabase",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "CSV", package: "CSV.swift"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
