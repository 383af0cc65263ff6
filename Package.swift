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
        .executable(name: "pixl-bench", targets: ["PixlBench"]),
        .executable(name: "pixl-store-workbench", targets: ["PixlStoreWorkbench"]),
        .library(name: "AMQPClient", targets: ["AMQPClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
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
        // Throughput benchmark of AMQPClient (scripts/bench-amqp); not a test.
        .executableTarget(
            name: "amqp-bench",
            dependencies: [
                "AMQPClient",
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
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The executable: the only code that names concrete adapters.
        .executableTarget(
            name: "PixlServer",
            dependencies: [
                "PixlCore",
                "PixlOrthanc",
                "PixlImaging",
                "PixlDatabase",
                "PixlAPI",
                "PixlQueue",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        // Benchmark helpers for scripts/bench: the minimal-client limit, load generators.
        .executableTarget(
            name: "PixlBench",
            dependencies: [
                "PixlCore",
                "PixlOrthanc",
                "PixlImaging",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // A helper for the job store's multi-process tests and its benchmark (not shipped).
        .executableTarget(
            name: "PixlStoreWorkbench",
            dependencies: [
                "PixlCore",
                "PixlDatabase",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Test support shared by the test targets: fakes, clocks, fixtures, the lab's address book.
        .target(
            name: "PixlTesting",
            dependencies: ["PixlCore"],
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
                "PixlDatabase", "PixlCore", "PixlTesting", "PixlStoreWorkbench", "PixlImaging",
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
        // The intake against a real RabbitMQ (RABBITMQ_HOST…); the end-to-end test also needs the lab and serve.
        .testTarget(
            name: "PixlQueueTests",
            dependencies: [
                "PixlQueue", "PixlCore", "PixlTesting", "AMQPClient", "PixlServer",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "PixlCore", "PixlOrthanc", "PixlImaging", "PixlTesting",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
