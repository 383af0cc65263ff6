/// Decodes a message body in either encoding of SPEC §2 into a validated ``ImagingMessage``.
///
/// The two encodings are told apart by the top-level `"py/object"` key:
/// - **plain JSON** (no `py/object`): `study_date` is `"YYYY-MM-DD"`, `extract_generated_timestamp` an
///   ISO 8601 string, `procedure_occurrence_id` a JSON integer, `series_uid` optional. This is what
///   ``ImagingMessage/plainJSON()`` writes.
/// - **PIXL's wire form** (`"py/object": "core.patient_queue.message.Message"`): the bytes the PIXL CLI
///   publishes, with jsonpickle's pickled dates, time zones, numpy integers and pandas timestamps.
///   Only those known shapes are rebuilt; any other `py/object`, `py/type`, `py/function` or `py/reduce`
///   name is refused, never interpreted, and never repeated in the error.
///
/// Both take an optional `priority`, an integer from 1 to 5 (default 1). In both, `null` or `NaN` in `mrn`,
/// `accession_number`, `study_uid` and `series_uid` means an empty
/// string; unknown keys, duplicate keys and missing required fields are refused. Errors name the message's own
/// fields and say what is wrong in fixed words: no value, unknown key or pickled name from the body.
///
/// ```swift
/// let message = try MessageDecoder.decode(delivery.body)
/// ```
public enum MessageDecoder {
    /// Decodes and validates one message body.
    /// - Parameter body: The raw bytes (UTF-8 JSON, no byte order mark).
    /// - Returns: The message, already passed through ``ImagingMessage/validated()``.
    /// - Throws: ``MessageDecodingError`` naming the field and the problem (never text from the body).
    public static func decode(_ body: some Collection<UInt8>) throws(MessageDecodingError) -> ImagingMessage {
        try decodeWithoutValidation(body).validated()
    }

    /// Decodes and validates one message already parsed, such as an item of a batch.
    /// - Parameter json: The message, parsed with ``JSONParser/Options/message`` (so that `NaN` is null).
    /// - Returns: The message, already passed through ``ImagingMessage/validated()``.
    /// - Throws: ``MessageDecodingError`` naming the field and the problem (never text from the body).
    public static func decode(_ json: JSONValue) throws(MessageDecodingError) -> ImagingMessage {
        try decodeWithoutValidation(json).validated()
    }

    /// Decodes the fields as sent, untrimmed and without the rules of ``ImagingMessage/validated()``.
    static func decodeWithoutValidation(_ body: some Collection<UInt8>) throws(MessageDecodingError) -> ImagingMessage {
        let json: JSONValue
        do {
            json = try JSONParser.parse(body, options: .message)
        } catch {
            throw MessageDecodingError(error)
        }
        return try decodeWithoutValidation(json)
    }

    static func decodeWithoutValidation(_ json: JSONValue) throws(MessageDecodingError) -> ImagingMessage {
        guard case .object(let members) = json else {
            throw MessageDecodingError(field: nil, problem: .notAMessage("the body is \(json.kindDescription), not an object"))
        }
        let isWireForm = json["py/object"] != nil
        if let tag = json["py/object"], tag != .string(WireFormDecoder.messageClass) {
            throw WireFormDecoder.unsupported
        }
        // Neither an unknown key nor a pickled name is repeated in the error: either could be an identifier.
        for member in members where !(isWireForm && member.key == "py/object") && MessageField(rawValue: member.key) == nil {
            if member.key.hasPrefix("py/") { throw WireFormDecoder.unsupported }
            throw MessageDecodingError(field: nil, problem: .unexpectedField)
        }
        var fields = Fields()
        var wire = WireFormDecoder()
        // Document order matters: py/id indices count pickled nodes in the order they appear.
        for member in members {
            guard let field = MessageField(rawValue: member.key) else { continue }
            do {
                if isWireForm {
                    try fields.decodeWireForm(field, member.value, using: &wire)
                } else {
                    try fields.decodePlain(field, member.value)
                }
            } catch {
                throw MessageDecodingError(field: error.field ?? field.rawValue, problem: error.problem)
            }
        }
        return try fields.message()
    }
}

/// The fields decoded so far; errors thrown here carry no field, ``MessageDecoder/decode(_:)`` adds it.
private struct Fields {
    var mrn: String?
    var accessionNumber: String?
    var studyUID: String?
    var seriesUID: String?
    var studyDate: CalendarDate?
    var procedureOccurrenceID: Int64?
    var projectName: String?
    var extractGeneratedTimestamp: ExtractTimestamp?
    var priority: Int?

    mutating func decodePlain(_ field: MessageField, _ value: JSONValue) throws(MessageDecodingError) {
        switch field {
        case .mrn, .accessionNumber, .studyUID, .seriesUID, .projectName:
            try setText(field, value)
        case .studyDate:
            guard case .string(let text) = value else { throw wrongType("a YYYY-MM-DD string") }
            guard let date = CalendarDate(iso: text) else { throw invalid("not a YYYY-MM-DD calendar date") }
            studyDate = date
        case .procedureOccurrenceID:
            procedureOccurrenceID = try integer(value)
        case .extractGeneratedTimestamp:
            guard case .string(let text) = value else { throw wrongType("an ISO 8601 date-time string") }
            guard let timestamp = ExtractTimestamp(iso: text) else { throw invalid("not an ISO 8601 date-time") }
            extractGeneratedTimestamp = timestamp
        case .priority:
            try setPriority(value)
        }
    }

    mutating func decodeWireForm(_ field: MessageField, _ value: JSONValue, using wire: inout WireFormDecoder) throws(MessageDecodingError) {
        switch field {
        case .mrn, .accessionNumber, .studyUID, .seriesUID, .projectName:
            try setText(field, value)
        case .studyDate:
            guard case .object = value else { throw wrongType("a pickled date") }
            switch try wire.decode(value, expected: "a pickled date") {
            case .date(let date): studyDate = date
            case .dateTime(let timestamp): studyDate = timestamp.date
            default: throw wrongType("a pickled date")
            }
        case .procedureOccurrenceID:
            switch value {
            case .string(let text):
                // PIXL's own tests send the id as a string ("234").
                guard text.utf8.count <= 20, text.utf8.allSatisfy({ $0 == UInt8(ascii: "-") || (0x30...0x39).contains($0) }),
                    let id = Int64(text)
                else { throw invalid("not a 64-bit integer") }
                procedureOccurrenceID = id
            case .object:
                guard case .integer(let id) = try wire.decode(value, expected: "an integer") else { throw wrongType("an integer") }
                procedureOccurrenceID = id
            default:
                procedureOccurrenceID = try integer(value)
            }
        case .extractGeneratedTimestamp:
            guard case .object = value else { throw wrongType("a pickled datetime") }
            switch try wire.decode(value, expected: "a pickled datetime") {
            case .dateTime(let timestamp): extractGeneratedTimestamp = timestamp
            // A date stands for its midnight (fixture 110 sends the study date object itself).
            case .date(let date): extractGeneratedTimestamp = ExtractTimestamp(date: date)
            default: throw wrongType("a pickled datetime")
            }
        case .priority:
            try setPriority(value)
        }
    }

    /// An integer from 1 to 5 (``ImagingMessage/priorities``).
    private mutating func setPriority(_ value: JSONValue) throws(MessageDecodingError) {
        let number = try integer(value)
        guard ImagingMessage.priorities.contains(number) else { throw invalid("not from 1 to 5") }
        priority = Int(number)
    }

    /// Identifier fields and the project name; `null` (or `NaN`) is an empty identifier.
    private mutating func setText(_ field: MessageField, _ value: JSONValue) throws(MessageDecodingError) {
        let text: String
        switch value {
        case .string(let string): text = string
        case .null where field.nullMeansEmpty: text = ""
        default: throw wrongType("a string")
        }
        switch field {
        case .mrn: mrn = text
        case .accessionNumber: accessionNumber = text
        case .studyUID: studyUID = text
        case .seriesUID: seriesUID = text
        default: projectName = text
        }
    }

    private func integer(_ value: JSONValue) throws(MessageDecodingError) -> Int64 {
        switch value {
        case .integer(let id):
            return id
        case .number(let literal) where JSONValue.isIntegerLiteral(literal):
            throw invalid("beyond the 64-bit integer range")
        default:
            throw wrongType("an integer")
        }
    }

    /// The message, or the first missing required field in PIXL's field order.
    func message() throws(MessageDecodingError) -> ImagingMessage {
        guard let mrn else { throw missing(.mrn) }
        guard let accessionNumber else { throw missing(.accessionNumber) }
        guard let studyUID else { throw missing(.studyUID) }
        guard let studyDate else { throw missing(.studyDate) }
        guard let procedureOccurrenceID else { throw missing(.procedureOccurrenceID) }
        guard let projectName else { throw missing(.projectName) }
        guard let extractGeneratedTimestamp else { throw missing(.extractGeneratedTimestamp) }
        return ImagingMessage(
            mrn: mrn, accessionNumber: accessionNumber, studyUID: studyUID, seriesUID: seriesUID ?? "",
            studyDate: studyDate, procedureOccurrenceID: procedureOccurrenceID, projectName: projectName,
            extractGeneratedTimestamp: extractGeneratedTimestamp, priority: priority ?? ImagingMessage.defaultPriority)
    }

    private func missing(_ field: MessageField) -> MessageDecodingError {
        MessageDecodingError(field: field.rawValue, problem: .missing)
    }

    private func wrongType(_ expected: String) -> MessageDecodingError {
        MessageDecodingError(field: nil, problem: .wrongType(expected: expected))
    }

    private func invalid(_ why: String) -> MessageDecodingError {
        MessageDecodingError(field: nil, problem: .invalidValue(why))
    }
}
