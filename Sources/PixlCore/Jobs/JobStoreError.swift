public import Foundation

/// A job store refused an operation on a claimed job: what every ``JobStore`` throws for it, whatever its backend.
public struct JobStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        enum Base: String { case leaseLost }
        let base: Base

        /// The claim is not the job's current one: its lease ran out and another worker took the job over, or the
        /// job was recorded or released already. Nothing was written.
        public static let leaseLost = Code(base: .leaseLost)

        public var description: String { base.rawValue }
    }

    public var code: Code
    public var jobID: UUID

    public init(_ code: Code, jobID: UUID) {
        self.code = code
        self.jobID = jobID
    }

    public var description: String {
        switch code.base {
        case .leaseLost: "job \(jobID.uuidString.lowercased()) is no longer held by this claim"
        }
    }
}
