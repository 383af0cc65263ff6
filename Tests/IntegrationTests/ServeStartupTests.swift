import Foundation
import PixlTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `pixl-imaging serve` with a wrong setting stops at once with exit status 2 and one line naming the variable and what
/// is wrong, before it starts anything (issue 11: start-up that says what is wrong). No service is needed.
@Suite(.timeLimit(.minutes(2)))
struct ServeStartupTests {
    /// Runs `serve` with a valid configuration (orthanc-raw at a closed port, SQLite in a fresh folder) and `overrides`;
    /// its exit status and standard error, once it has exited by itself.
    func serve(_ overrides: [String: String]) throws -> (status: Int32, errors: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pixl-startup-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var environment = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin", "ORTHANC_RAW_URL": "http://127.0.0.1:1",
            "ORTHANC_RAW_AE_TITLE": "ORTHANCRAW", "PRIMARY_DICOM_SOURCE_MODALITY": "UCPRIMARYQR", "PRIMARY_DICOM_SOURCE_AE_TITLE": "VNAQR",
            "PIXL_DB_PATH": directory.appendingPathComponent("jobs.sqlite").path, "PIXL_IMAGING_API_PORT": "0",
            "PIXL_DB_CONNECT_TIMEOUT": "0",
        ]
        environment.merge(overrides) { _, new in new }
        let process = Process()
        process.executableURL = try Executable.pixlImaging()
        process.arguments = ["serve"]
        process.environment = environment
        process.currentDirectoryURL = directory
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let logged = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: logged, as: UTF8.self))
    }

    @Test(arguments: [
        ("PIXL_DB_PATH", "/proc/no-such-folder/jobs.sqlite", "PIXL_DB_PATH"),
        ("PIXL_DB_PATH", "/", "PIXL_DB_PATH"),
        ("ORTHANC_RAW_URL", "http://no-such-host.invalid:8042", "ORTHANC_RAW_URL"),
        ("PIXL_IMAGING_API_HOST", "no-such-host.invalid", "PIXL_IMAGING_API_HOST"),
        ("PIXL_DB_HOST", "no-such-host.invalid", "PIXL_DB_HOST"),
        ("RABBITMQ_HOST", "no-such-host.invalid", "RABBITMQ_HOST"),
        ("PIXL_IMAGING_API_TOKEN", "", "PIXL_IMAGING_API_TOKEN"),
        ("TZ", "UTC+5", "TZ"),
        ("SKIP_ALEMBIC", "true", "SKIP_ALEMBIC"),
        ("PIXL_QUERY_TIMEOUT", "1e11", "PIXL_QUERY_TIMEOUT"),
        ("PIXL_IMAGING_API_RATE", "1e-30", "PIXL_IMAGING_API_RATE"),
        ("RABBITMQ_QUEUE", String(repeating: "q", count: 300), "RABBITMQ_QUEUE"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", "OTEL_EXPORTER_OTLP_PROTOCOL"),
    ])
    func aWrongSettingStopsWithOneLineNamingIt(variable: String, value: String, named: String) throws {
        var overrides = [variable: value]
        if variable == "PIXL_DB_HOST" { overrides["PIXL_DB_USER"] = "postgres" }
        if variable == "RABBITMQ_QUEUE" { overrides["RABBITMQ_HOST"] = "127.0.0.1" }
        if variable.hasPrefix("OTEL_") { overrides["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:1" }
        let (status, errors) = try serve(overrides)
        #expect(status == 2, "\(variable)=\(value): \(errors)")
        let lines = errors.split(separator: "\n")
        #expect(lines.count == 1, "\(variable)=\(value): \(errors)")
        #expect(lines.first?.hasPrefix("pixl-imaging: configuration error: \(named) ") == true, "\(errors)")
    }

    @Test func aPortInUseStopsWithOneLineNamingIt() throws {
        // Hold a port, as another service would.
        let holder = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(holder) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(holder, $0, length) == 0 && listen(holder, 1) == 0 && getsockname(holder, $0, &length) == 0 }
        }
        try #require(bound)
        let port = Int(UInt16(bigEndian: address.sin_port))
        let (status, errors) = try serve(["PIXL_IMAGING_API_PORT": String(port)])
        #expect(status == 2, "\(errors)")
        #expect(errors.split(separator: "\n").count == 1 && errors.hasPrefix("pixl-imaging: configuration error: PIXL_IMAGING_API_PORT \(port) "), "\(errors)")
    }
}
