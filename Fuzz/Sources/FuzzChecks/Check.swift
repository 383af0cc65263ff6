import PixlCore

/// The properties the fuzz targets assert. A violation traps with a fixed text, which libFuzzer reports as a
/// crash and saves the input as its reproducer.
public enum Check {
    // MARK: Member variables

    /// The keys of a message (SPEC §2): the only names an error may give.
    static let messageFields: Set<String> = [
        "mrn", "accession_number", "study_uid", "series_uid", "study_date", "procedure_occurrence_id", "project_name",
        "extract_generated_timestamp", "priority",
    ]

    /// Every word (a run of ASCII letters; `s` is the one of "scalar's") of the fixed texts that errors are made of: the problems of
    /// ``MessageDecodingError``, the reasons of ``JSONParseError`` and the texts of the decoders. A word of an
    /// error's description outside this list came from somewhere else: from the input. A new error text with a
    /// new word must be added here, after checking that it is fixed.
    static let vocabulary: Set<Substring> = [
        "ASCII", "DD", "DICOM", "ISO", "Infinity", "JSON", "MM", "Timestamp", "UID", "UIDs", "UTC", "UTF", "YYYY",
        "ZoneInfo", "a", "accession", "after", "an", "and", "appears", "archive", "arguments", "array", "as", "at",
        "base", "be", "beyond", "bit", "body", "boolean", "both", "by", "byte", "bytes", "calendar", "character",
        "characters", "complete", "component", "control", "count", "data", "database", "date", "datetime", "day",
        "days", "deeper", "digits", "do", "does", "dots", "dtype", "duplicate", "each", "earlier", "empty", "end",
        "escape", "expected", "extra", "extract", "field", "flag", "for", "from", "function", "generated", "have",
        "hold", "holds", "id", "in", "input", "integer", "invalid", "is", "its", "joined", "key", "known", "leading",
        "less", "levels", "longer", "malformed", "mark", "match", "message", "microseconds", "missing", "more", "most",
        "mrn", "must", "name", "needs", "nesting", "no", "non", "normalised", "not", "null", "number", "numpy", "object",
        "occurrence", "of", "offset", "once", "one", "only", "or", "order", "out", "pandas", "pickled", "printable",
        "priority", "procedure", "project", "py", "range", "reach", "reduce", "refer", "s", "scalar", "seconds", "sequence",
        "series", "start", "starts", "state", "string", "study", "surrogate", "takes", "than", "that", "the", "time",
        "timedelta", "timestamp", "timezone", "to", "tuple", "type", "tz", "tzinfo", "uid", "unescaped", "unexpected",
        "unit", "unpaired", "unpickle", "unsupported", "valid", "value", "which", "whole", "wildcard", "with", "would",
        "written", "zero", "zone", "zoneinfo",
    ]

    /// The largest number an error may state: an offset into the input, or a limit (at most a string's 64 KiB).
    static func largestNumber(inputCount: Int) -> Int { max(inputCount, 64 * 1024) }

    // MARK: Methods

    /// Traps, naming the property, when `condition` is false.
    public static func require(_ condition: Bool, _ property: @autoclosure () -> String) {
        if !condition { fatalError("fuzz property violated: \(property())") }
    }

    /// An error of ``MessageDecoder``: it names only a message field, and its description is made of fixed words
    /// and numbers no larger than an offset or a limit. Nothing of the input (a value, an unknown key, a pickled
    /// class name) may reach it, since any of them could be a patient identifier.
    public static func errorRepeatsNothing(_ error: MessageDecodingError, inputCount: Int) {
        if let field = error.field {
            require(messageFields.contains(field), "an error names a field that is not a message field")
        }
        let text = error.description
        for word in words(in: text) {
            require(vocabulary.contains(word), "an error's description holds a word that is not of its fixed texts: \(text)")
        }
        for number in numbers(in: text) {
            require(number.count <= 18 && Int(number)! <= largestNumber(inputCount: inputCount), "an error states a number beyond any offset or limit: \(text)")
        }
    }

    /// A decoded message: validating it again changes nothing, and its plain JSON decodes to it.
    public static func messageRoundTrips(_ message: ImagingMessage) {
        require((try? message.validated()) == message, "a decoded message changes when validated again")
        let plain = message.plainJSON()
        require((try? MessageDecoder.decode(Array(plain.utf8))) == message, "a decoded message's plain JSON does not decode to it")
    }

    /// Decodes `body` as the RabbitMQ intake does and checks either outcome.
    public static func decodeMessage(_ body: [UInt8]) {
        do throws(MessageDecodingError) {
            messageRoundTrips(try MessageDecoder.decode(body))
        } catch {
            errorRepeatsNothing(error, inputCount: body.count)
        }
    }

    // MARK: Text

    /// The runs of ASCII letters of `text`.
    static func words(in text: String) -> [Substring] {
        runs(in: text) { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }
    }

    /// The runs of ASCII digits of `text`.
    static func numbers(in text: String) -> [Substring] {
        runs(in: text) { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }

    private static func runs(in text: String, where belongs: (UInt8) -> Bool) -> [Substring] {
        var result: [Substring] = []
        var start: String.Index?
        var index = text.utf8.startIndex
        while index != text.utf8.endIndex {
            if belongs(text.utf8[index]) {
                if start == nil { start = index }
            } else if let first = start {
                result.append(text[first..<index])
                start = nil
            }
            index = text.utf8.index(after: index)
        }
        if let first = start { result.append(text[first...]) }
        return result
    }
}
