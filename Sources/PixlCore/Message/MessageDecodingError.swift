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
        /// Holds a character outside printable ASCII (a control character, or one that orthanc-raw's query
        /// encoding would drop, leaving a shorter or empty key).
        case notPrintableASCII
        /// `study_uid` is not a DICOM UID.
        case notAUID
        /// `series_uid` is not a list of DICOM UIDs joined by `\`.
        case notUIDs
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
            case .notPrintableASCII:
                "must be printable ASCII (no control or non-ASCII characters, which would not reach the archive as written)"
            case .notAUID: "must be a DICOM UID: digits and dots, at most 64 characters, no empty component, no leading zero in a component"
            case .notUIDs:
                "must be DICOM UIDs joined by \\: each digits and dots, at most 64 characters, no empty component, no leading zero in a component"
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
    public init(_ error: JSONParseError) {
        let field = error.topLevelKey.flatMap(MessageField.init(rawValue:))?.rawValue
        if case .duplicateKey(topLevel: true) = error.reason, let field {
            self.init(field: field, problem: .duplicateField)
        } else {
            self.init(field: field, problem: .invalidJSON(reason: error.reason.description, offset: error.offset))
        }
    }

    /// A name taken from the body (an unknown key, a pickled class name) if it looks like a name and may
    /// be shown: up to 64 ASCII letters, digits, `_`, `.` and `/`, starting with a letter or `_`.
    /// `nil` otherwise, since a misplaced value (a number, a name with spaces) could be an identifier.
    static func displayableName(_ name: String) -> String? {
        guard let first = name.utf8.first, first == UInt8(ascii: "_") || first.isASCIILetter, name.utf8.count <= 64,
            name.utf8.allSatisfy({ $0.isASCIILetter || (0x30...0x39).contains($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "/") })
        else { return nil }
        return name
    }
}

extension UInt8 {
    fileprivate var isASCIILetter: Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self)
    }
}
