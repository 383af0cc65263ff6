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
            (.mrn, JSONValue.quoted(mrn)),
            (.accessionNumber, JSONValue.quoted(accessionNumber)),
            (.studyUID, JSONValue.quoted(studyUID)),
            (.seriesUID, JSONValue.quoted(seriesUID)),
            (.studyDate, JSONValue.quoted(studyDate.description)),
            (.procedureOccurrenceID, String(procedureOccurrenceID)),
            (.projectName, JSONValue.quoted(projectName)),
            (.extractGeneratedTimestamp, JSONValue.quoted(extractGeneratedTimestamp.description)),
        ]
        let priority = priority == Self.defaultPriority ? [] : [(MessageField.priority, String(priority))]
        return "{" + (members + priority).map { "\"\($0.0.rawValue)\":\($0.1)" }.joined(separator: ",") + "}"
    }
}
