extension ImagingMessage {
    /// The message in the plain JSON encoding of SPEC §2, as the job store persists it.
    ///
    /// Keys in PIXL's field order with `series_uid` always present, dates as `YYYY-MM-DD`, the
    /// timestamp as Python's `isoformat()`, no whitespace; `priority` last, only when it is not the default.
    /// For a validated message,
    /// `MessageDecoder.decode(message.plainJSON().utf8) == message`.
    ///
    /// ```swift
    /// {"mrn":"123","accession_number":"A1","study_uid":"1.2.3","series_uid":"","study_date":"2024-01-02",
    ///  "procedure_occurrence_id":7,"project_name":"p","extract_generated_timestamp":"2024-01-02T03:04:05+00:00"}
    /// ```
    /// > Warning: The result holds patient identifiers; never log it.
    public func plainJSON() -> String {
        let members: [(MessageField, String)] = [
            (.mrn, Self.jsonString(mrn)),
            (.accessionNumber, Self.jsonString(accessionNumber)),
            (.studyUID, Self.jsonString(studyUID)),
            (.seriesUID, Self.jsonString(seriesUID)),
            (.studyDate, Self.jsonString(studyDate.description)),
            (.procedureOccurrenceID, String(procedureOccurrenceID)),
            (.projectName, Self.jsonString(projectName)),
            (.extractGeneratedTimestamp, Self.jsonString(extractGeneratedTimestamp.description)),
        ]
        let priority = priority == Self.defaultPriority ? [] : [(MessageField.priority, String(priority))]
        return "{" + (members + priority).map { "\"\($0.0.rawValue)\":\($0.1)" }.joined(separator: ",") + "}"
    }

    /// A JSON string literal (``JSONValue/writeQuoted(_:to:)``).
    private static func jsonString(_ text: String) -> String {
        var out = ""
        JSONValue.writeQuoted(text, to: &out)
        return out
    }
}
