public import PixlCore

/// Decodes one message from its bytes: the `decodeMessage` dependency of ``buildRouter(store:bucket:status:metrics:configuration:decodeMessage:)``.
///
/// `serve` passes PixlCore's full decoder (plain JSON and PIXL's wire form); until then, and in tests,
/// ``minimalPlainJSONMessageDecoder`` reads plain JSON only.
public typealias MessageDecoding = @Sendable ([UInt8]) throws -> ImagingMessage

/// A stand-in decoder for plain JSON messages (SPEC §2, encoding 1) only: swap for `MessageDecoder.decode`.
///
/// - Throws: ``MessageDecodingError`` naming the field at fault (never its value).
public let minimalPlainJSONMessageDecoder: MessageDecoding = { bytes in
    try MinimalPlainJSONMessage.decode(bytes)
}

enum MinimalPlainJSONMessage {
    static func decode(_ bytes: [UInt8]) throws(MessageDecodingError) -> ImagingMessage {
        let value: PythonJSON
        do {
            value = try PythonJSONParser.parse(bytes)
        } catch {
            throw MessageDecodingError(field: nil, problem: .invalidJSON(reason: error.message, offset: error.position))
        }
        guard case .object = value else { throw MessageDecodingError(field: nil, problem: .notAMessage("expected a JSON object")) }

        func string(_ key: String, optional: Bool = false) throws(MessageDecodingError) -> String {
            switch value[key] {
            case .string(let text)?: return text
            case .float(let number)? where number.isNaN: return ""  // an empty CSV cell, as PIXL sends it
            case nil where optional, .null? where optional: return ""
            case nil: throw MessageDecodingError(field: key, problem: .missing)
            default: throw MessageDecodingError(field: key, problem: .wrongType(expected: "a string"))
            }
        }
        let studyDateText = try string("study_date")
        guard let studyDate = CalendarDate(iso: studyDateText) else {
            throw MessageDecodingError(field: "study_date", problem: .invalidValue("expected a date YYYY-MM-DD"))
        }
        let timestampText = try string("extract_generated_timestamp")
        guard let timestamp = ExtractTimestamp(iso: timestampText) else {
            throw MessageDecodingError(field: "extract_generated_timestamp", problem: .invalidValue("expected an ISO 8601 date-time"))
        }
        let procedureID: Int64
        switch value["procedure_occurrence_id"] {
        case .int(let digits)?:
            guard let parsed = Int64(digits) else {
                throw MessageDecodingError(field: "procedure_occurrence_id", problem: .invalidValue("out of range"))
            }
            procedureID = parsed
        case nil: throw MessageDecodingError(field: "procedure_occurrence_id", problem: .missing)
        default: throw MessageDecodingError(field: "procedure_occurrence_id", problem: .wrongType(expected: "an integer"))
        }
        let message = ImagingMessage(
            mrn: try string("mrn"),
            accessionNumber: try string("accession_number"),
            studyUID: try string("study_uid"),
            seriesUID: try string("series_uid", optional: true),
            studyDate: studyDate,
            procedureOccurrenceID: procedureID,
            projectName: try string("project_name"),
            extractGeneratedTimestamp: timestamp
        )
        return try message.validated()
    }
}
