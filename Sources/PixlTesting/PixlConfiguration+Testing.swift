public import Logging
public import PixlCore

extension PixlConfiguration {
    /// A valid configuration for tests: orthanc-raw at a closed port, the lab's names for the archives, then `overrides`.
    public static func testing(_ overrides: [String: String] = [:]) throws -> PixlConfiguration {
        let base = [
            "ORTHANC_RAW_URL": "http://127.0.0.1:1", "ORTHANC_RAW_AE_TITLE": "ORTHANCRAW",
            "PRIMARY_DICOM_SOURCE_MODALITY": "UCPRIMARYQR", "PRIMARY_DICOM_SOURCE_AE_TITLE": "VNAQR",
        ]
        return try PixlConfiguration(environment: Environment(base.merging(overrides) { _, new in new }))
    }
}

extension Lanes {
    /// Both lanes of ``PixlConfiguration/testing(_:)`` going at `rate` with `maxInFlight` each, then `overrides`.
    public static func testing(
        rate: Double,
        maxInFlight: Int = 1,
        _ overrides: [String: String] = [:],
        clock: C,
        onChange: @escaping @Sendable () -> Void = {}
    ) throws -> Lanes<C> {
        let settings = ["PIXL_IMAGING_API_RATE": "\(rate)", "PIXL_MAX_MESSAGES_IN_FLIGHT": "\(maxInFlight)"].merging(overrides) { _, new in new }
        return try Lanes(configuration: try .testing(settings), clock: clock, logger: Logger(label: "test"), onChange: onChange)
    }
}
