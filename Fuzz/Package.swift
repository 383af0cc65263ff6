// swift-tools-version:5.4
// Coverage-guided fuzzing of PixlCore with libFuzzer, beside the product (as Benchmarks/): built and run by
// scripts/fuzz with -sanitize=fuzzer,address, never by the service's own build or tests. Each executable defines
// LLVMFuzzerTestOneInput and libFuzzer provides main. Only PixlCore and swift-log are compiled, and instrumented.
//
// Tools version 5.4 on purpose (as swift-protobuf's FuzzTesting): from 5.5 on, SwiftPM renames an executable's
// entry point on Linux (`--defsym main=<module>_main`), which leaves no room for libFuzzer's main.
import PackageDescription

let pixlCore: Target.Dependency = .product(name: "PixlCore", package: "pixl-imaging")

let package = Package(
    name: "pixl-imaging-fuzz",
    dependencies: [
        .package(name: "pixl-imaging", path: "..")
    ],
    targets: [
        // The properties every target checks: errors that repeat nothing from the input, messages that round-trip.
        .target(name: "FuzzChecks", dependencies: [pixlCore]),
        // MessageDecoder.decode on raw bytes: both encodings, as the RabbitMQ intake and `process` read a body.
        .executableTarget(name: "fuzz-message", dependencies: ["FuzzChecks", pixlCore]),
        // JSONParser under .message and .python: the two against each other, round trips, error offsets.
        .executableTarget(name: "fuzz-json", dependencies: ["FuzzChecks", pixlCore]),
        // JSONParser.parseBatch and the decoder as POST /messages uses them: each item as it would be alone.
        .executableTarget(name: "fuzz-batch", dependencies: ["FuzzChecks", pixlCore]),
        // PIXL's wire form: one field's pickled value inside an otherwise valid message.
        .executableTarget(name: "fuzz-wire-form", dependencies: ["FuzzChecks", pixlCore]),
    ]
)
