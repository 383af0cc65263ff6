/// A failure of the database layer: configuration, migrations, connectivity or a row that cannot be read.
///
/// ``description`` holds a one-line message that is safe to log at any level (it never carries
/// patient identifiers); ``debugDescription`` adds the underlying driver error, which may quote
/// SQL parameters.
// @unchecked: `underlying` is an immutable error value once thrown; driver errors are not all marked Sendable.
public struct DatabaseError: Error, @unchecked Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What went wrong, as an extensible set of codes.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        enum Base: String, Sendable, Hashable {
            case invalidConfiguration
            case unknownRevision
            case downgradeNotSupported
            case migrationFailed
            case unreachable
            case schemaNotMigrated
            case invalidRow
        }

        let base: Base

        /// An environment variable is missing or invalid.
        public static let invalidConfiguration = Code(base: .invalidConfiguration)
        /// The database (or `--to`) names a revision this service does not know.
        public static let unknownRevision = Code(base: .unknownRevision)
        /// The target revision is older than the database's: downgrades are not supported.
        public static let downgradeNotSupported = Code(base: .downgradeNotSupported)
        /// A revision's SQL failed; its transaction was rolled back.
        public static let migrationFailed = Code(base: .migrationFailed)
        /// The database server could not be reached within the retry window.
        public static let unreachable = Code(base: .unreachable)
        /// The job table is missing: run `pixl-imaging migrate` first.
        public static let schemaNotMigrated = Code(base: .schemaNotMigrated)
        /// A stored row could not be read back as a job.
        public static let invalidRow = Code(base: .invalidRow)

        public var description: String { base.rawValue }
    }

    // MARK: Member variables

    public var code: Code
    /// One line, free of patient identifiers.
    public var message: String
    public var underlying: (any Error)?
    public var file: String
    public var line: Int

    // MARK: Initialization

    public init(_ code: Code, _ message: String, underlying: (any Error)? = nil, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.underlying = underlying
        self.file = file
        self.line = line
    }

    public var description: String { message }

    public var debugDescription: String {
        var text = "DatabaseError(\(code)): \(message)"
        if let underlying { text += " [underlying: \(String(reflecting: underlying))]" }
        return text + " at \(file):\(line)"
    }
}
