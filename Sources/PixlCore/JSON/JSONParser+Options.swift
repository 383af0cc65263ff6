extension JSONParser {
    /// What the parser accepts beyond RFC 8259, and its limits.
    ///
    /// Two sets serve the project: ``message`` for a message body, and ``python`` for a body read as PIXL's
    /// FastAPI service reads it (Python's `json.loads`). For others, start from one and change what differs:
    ///
    /// ```swift
    /// var options = JSONParser.Options.message
    /// options.maximumDepth = 8
    /// ```
    public struct Options: Sendable, Hashable {
        // MARK: Member variables

        public var byteOrderMark: ByteOrderMark
        public var nonFiniteNumbers: NonFiniteNumbers
        public var duplicateKeys: DuplicateKeys
        public var loneSurrogates: LoneSurrogates
        /// Deepest nesting of arrays and objects accepted, counted from the root (the document, or a batch item).
        public var maximumDepth: Int
        /// Longest string accepted, in UTF-8 bytes after unescaping.
        public var maximumStringBytes: Int
        /// Longest number literal accepted, in bytes.
        public var maximumNumberLength: Int

        /// A UTF-8 byte order mark at the start of the document.
        public enum ByteOrderMark: Sendable, Hashable {
            case refuse
            /// Skipped, as Python's `json.loads` does with bytes.
            case skip
        }

        /// `NaN`, `Infinity` and `-Infinity`, which Python writes for non-finite floats.
        public enum NonFiniteNumbers: Sendable, Hashable {
            /// `NaN` is ``JSONValue/null`` (PIXL's CLI writes an empty CSV cell as a float NaN); the infinities are refused.
            case nanAsNull
            /// All three are ``JSONValue/number(_:)``, as Python reads them.
            case accept
        }

        /// A key repeated in one object.
        public enum DuplicateKeys: Sendable, Hashable {
            case refuse
            /// As a Python `dict`: the key keeps its first position and takes the last value.
            case keepLast
        }

        /// A `\u` escape of a UTF-16 surrogate without its other half.
        public enum LoneSurrogates: Sendable, Hashable {
            case refuse
            /// Read as U+FFFD: Python keeps the surrogate, which a Swift string cannot hold.
            case replace
        }

        // MARK: Presets

        /// A message body (SPEC §2): RFC 8259 plus `NaN` as null, at most 32 levels deep (a message is 6),
        /// strings up to 64 KiB and numbers up to 1024 characters.
        public static let message = Options(
            byteOrderMark: .refuse,
            nonFiniteNumbers: .nanAsNull,
            duplicateKeys: .refuse,
            loneSurrogates: .refuse,
            maximumDepth: 32,
            maximumStringBytes: 64 * 1024,
            maximumNumberLength: 1024
        )

        /// Python's `json.loads` on bytes, with a nesting limit (512) in place of Python's recursion limit.
        public static let python = Options(
            byteOrderMark: .skip,
            nonFiniteNumbers: .accept,
            duplicateKeys: .keepLast,
            loneSurrogates: .replace,
            maximumDepth: 512,
            maximumStringBytes: .max,
            maximumNumberLength: .max
        )
    }
}
