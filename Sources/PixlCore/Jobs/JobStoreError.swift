public import Foundation

/// A job store refused an operation on one job: what every ``JobStore`` throws for it, whatever its backend.
public struct JobStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        enum Base: String { case jobNotFound, notInProgress }
        let base: Base

        /// No job has the id.
        public static let jobNotFound = Code(base: .jobNotFound)
        /// The job is not in progress: its lease cannot be renewed, nor the job released.
        public static let notInProgress = Code(base: .notInProgress)

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
        case .jobNotFound: "no job \(jobID.uuidString.lowercased())"
        case .notInProgress: "job \(jobID.uuidString.lowercased()) is not in progress"
        }
    }
}
