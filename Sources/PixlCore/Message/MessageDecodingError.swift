/// A message that cannot be processed, with the field at fault and what is wrong with it.
///
/// ``description`` is made of the message's own field names and fixed texts only: never a
/// value, an unknown key or a pickled class name from the body (any of which could be a patient identifier), so
/// it is safe to log at any level and to return to an HTTP client.
public struct MessageDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The message field at fault (`mrn`, `study_date`, …), or `nil` when the body as a whole is wrong. Never a
    /// key that is not a message field: such a key comes from the body and is not repeated.
    public var field: String?
    public var problem: Problem

    public init(field: String?, problem: Problem) {
        self.field = field
        self.problem = problem
    }

    public enum Problem: Sendable, Hashable, CustomStringConvertible {
        /// The body is not JSON: the parser's reason and the byte offset where it stopped.
        case invalidJSON(reason: String, offset: Int)
        /// The body is JSON, but not a message object.
        case notAMessage(String)
        case missing
        /// The body holds a key that is not a message field (not named: it comes from the body).
        case unexpectedField
        case duplicateField
        case wrongType(expected: String)
        case invalidValue(String)
        case empty
        case tooLong(maximum: Int)
        /// The identifier holds `*`, `?` or `\`, which a C-FIND would treat as a wildcard or a list.
        case wildcard
        /// Holds a character outside printable ASCII (a control character, or one that orthanc-raw's query
        /// encoding would drop, leaving a shorter or empty key).
        case notPrintableASCII
        /// `study_uid` is not a DICOM UID.
        case notAUID
        /// `series_uid` is not a list of DICOM UIDs joined by `\`.
        case notUIDs
        /// Neither a study UID nor both MRN and accession number.
        case namesNoStudy
        /// A pickled object that this decoder does not accept: never executed, and not named either (the name
        /// comes from the body).
        case unsupportedObject

        public var description: String {
            switch self {
            case .invalidJSON(let reason, let offset): "is not valid JSON: \(reason) at byte \(offset)"
            case .notAMessage(let what): "is not a message: \(what)"
            case .missing: "is missing"
            case .unexpectedField: "holds a key that is not a message field"
            case .duplicateField: "appears more than once"
            case .wrongType(let expected): "must be \(expected)"
            case .invalidValue(let why): "is invalid: \(why)"
            case .empty: "must not be empty"
            case .tooLong(let maximum): "is longer than \(maximum) characters"
            case .wildcard: "holds a wildcard character (*, ? or \\) and would match more than one study"
            case .notPrintableASCII:
                "must be printable ASCII (no control or non-ASCII characters, which would not reach the archive as written)"
            case .notAUID: "must be a DICOM UID: digits and dots, at most 64 characters, no empty component, no leading zero in a component"
            case .notUIDs:
                "must be DICOM UIDs joined by \\: each digits and dots, at most 64 characters, no empty component, no leading zero in a component"
            case .namesNoStudy: "is empty: a message needs a study_uid, or both mrn and accession_number"
            case .unsupportedObject: "holds an unsupported pickled object"
            }
        }
    }

    public var description: String {
        if let field { "\(field) \(problem)" } else { "message \(problem)" }
    }
}

extension MessageDecodingError {
    /// The error for a body the JSON parser refused; the field is named when the parser was inside
    /// one of the message's own fields (other keys come from the body and are not repeated).
    public init(_ error: JSONParseError) {
        let field = error.topLevelKey.flatMap(MessageField.init(rawValue:))?.rawValue
        if case .duplicateKey(topLevel: true) = error.reason, let field {
            self.init(field: field, problem: .duplicateField)
        } else {
            self.init(field: field, problem: .invalidJSON(reason: error.reason.description, offset: error.offset))
        }
    }
}
