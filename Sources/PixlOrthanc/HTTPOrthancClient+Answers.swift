import PixlCore

/// Orthanc's answers turned into the port's values, checked and bounded first.
extension HTTPOrthancClient {
    /// The most answers one C-FIND may bring (or instances one series may list): beyond this the answer
    /// is refused as not what Orthanc documents, rather than held in memory.
    static var maximumAnswers: Int { 100_000 }
    /// The longest tag value read; longer values are ignored (no key the pipeline reads is that long).
    static var maximumValueLength: Int { 1024 }
    /// The largest NumberOfSeriesRelatedInstances believed; anything else is "no count".
    static var maximumSeriesInstances: Int { 1_000_000 }

    /// One answer of `GET /queries/{id}/answers?expand&short` (tags keyed `gggg,eeee`).
    static func answer(_ tags: [String: SharedTag], index: Int) -> QueryAnswer {
        func text(_ tag: String) -> String? { tags[tag]?.text(upTo: maximumValueLength) }
        return QueryAnswer(
            index: index,
            studyInstanceUID: text("0020,000d"),
            seriesInstanceUID: text("0020,000e"),
            sopInstanceUID: text("0008,0018"),
            patientID: text("0010,0020"),
            accessionNumber: text("0008,0050"),
            modality: text("0008,0060"),
            instanceAvailability: text("0008,0056"),
            numberOfSeriesRelatedInstances: text("0020,1209").flatMap(count)
        )
    }

    /// An IS value (up to 12 characters, optional padding) from 0 to ``maximumSeriesInstances``.
    static func count(_ text: String) -> Int? {
        let trimmed = DicomValue.trimmingPadding(text)
        guard !trimmed.isEmpty, trimmed.count <= 12, let value = Int(trimmed), (0...maximumSeriesInstances).contains(value) else { return nil }
        return value
    }

    /// An id Orthanc handed out (a resource, query or job id), before it goes into a path: 1 to 128
    /// letters, digits and dashes.
    static func checkedID(_ id: String, request: String) throws -> String {
        guard !id.isEmpty, id.utf8.count <= 128,
            id.utf8.allSatisfy({ $0 == UInt8(ascii: "-") || (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) })
        else {
            throw OrthancError(code: .badResponse, request: request, detail: "not an Orthanc id")
        }
        return id
    }
}

extension SharedTag {
    /// The value when it is a string of at most `maximumLength` characters.
    func text(upTo maximumLength: Int) -> String? {
        guard case .string(let value) = self, value.utf8.count <= maximumLength else { return nil }
        return value
    }
}
