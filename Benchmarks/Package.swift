// swift-tools-version:6.1
// Benchmarks of pixl-imaging, beside the product (swift-nio's layout): built and run by scripts/bench*,
// never by the service's own build or tests.
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "pixl-imaging-benchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "pixl-imaging", path: ".."),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // The minimal-client limit, the service under load, and intake (scripts/bench).
        .executableTarget(
            name: "pixl-bench",
            dependencies: [
                .product(name: "PixlService", package: "pixl-imaging"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                // The scale benchmark fills the store with SQL (scale-fill).
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // AMQPClient's throughput against a local RabbitMQ (scripts/bench-amqp).
        .executableTarget(
            name: "amqp-bench",
            dependencies: [
                .product(name: "AMQPClient", package: "pixl-imaging"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
