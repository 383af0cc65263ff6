/// A message that cannot be processed, with the field at fault and what is wrong with it.
///
/// ``description`` names the field and the problem but never the field's value, so it is safe to log
/// at any level and to return to an HTTP client.
public struct MessageDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The JSON key at fault (`mrn`, `study_date`, …), or `nil` when the body as a whole is wrong.
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
        case unexpectedField
        case duplicateField
        case wrongType(expected: String)
        case invalidValue(String)
        case empty
        case tooLong(maximum: Int)
        /// The identifier holds `*`, `?` or `\`, which a C-FIND would treat as a wildcard or a list.
        case wildcard
        /// Neither a study UID nor both MRN and accession number.
        case namesNoStudy
        /// A pickled object that this decoder does not accept (never executed, only named).
        case unsupportedObject(String)

        public var description: String {
            switch self {
            case .invalidJSON(let reason, let offset): "is not valid JSON: \(reason) at byte \(offset)"
            case .notAMessage(let what): "is not a message: \(what)"
            case .missing: "is missing"
            case .unexpectedField: "is not a field of a message"
            case .duplicateField: "appears more than once"
            case .wrongType(let expected): "must be \(expected)"
            case .invalidValue(let why): "is invalid: \(why)"
            case .empty: "must not be empty"
            case .tooLong(let maximum): "is longer than \(maximum) characters"
            case .wildcard: "holds a wildcard character (*, ? or \\) and would match more than one study"
            case .namesNoStudy: "is empty: a message needs a study_uid, or both mrn and accession_number"
            case .unsupportedObject(let name): "holds an unsupported object \(name)"
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
    init(_ error: JSONParseError) {
        let field = error.topLevelKey.flatMap(MessageField.init(rawValue:))?.rawValue
        if case .duplicateKey(topLevel: true) = error.reason, let field {
            self.init(field: field, problem: .duplicateField)
        } else {
            self.init(field: field, problem: .invalidJSON(reason: error.reason.description, offset: error.offset))
        }
    }

    /// A name taken from the body (an unknown key, a pickled class name) made safe to show: at most
    /// 64 characters, control characters replaced.
    static func sanitized(_ name: String) -> String {
        let limit = 64
        var scalars = String.UnicodeScalarView()
        for scalar in name.unicodeScalars.prefix(limit) {
            scalars.append(scalar.properties.generalCategory == .control ? "?" : scalar)
        }
        return String(scalars) + (name.unicodeScalars.count > limit ? "…" : "")
    }
}
