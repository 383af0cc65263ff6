import PixlCore

/// What an archive lists of one study: its series from a SERIES-level C-FIND, each checked to belong to
/// the study asked for.
struct ArchiveInventory: Sendable {
    var source: ArchiveSource
    /// The SERIES-level query, whose answers a series-level C-MOVE retrieves.
    var query: QueryReference
    var series: [ArchiveSeries]
}

/// A query held by orthanc-raw: its id and how many answers it has (checked or not), so that "retrieve
/// every answer" is used only when every answer is wanted.
struct QueryReference: Sendable, Hashable {
    var id: String
    var answerCount: Int
}

/// One series as the archive lists it.
struct ArchiveSeries: Sendable {
    var uid: String
    var modality: String?
    /// Instances the archive holds: its NumberOfSeriesRelatedInstances, or the size of ``listing``.
    var expected: Int?
    /// This series' answer in the SERIES-level query.
    var answerIndex: Int
    /// Its SOPInstanceUIDs, once an IMAGE-level C-FIND listed them.
    var listing: InstanceListing?
}

/// The SOPInstanceUIDs of one series from an IMAGE-level C-FIND (SeriesInstanceUID always set).
struct InstanceListing: Sendable {
    var query: QueryReference
    /// Answer index of each instance, for an instance-level C-MOVE of one answer.
    var indexBySOPInstanceUID: [String: Int]

    var count: Int { indexBySOPInstanceUID.count }
}

/// One wanted series compared with orthanc-raw's copy.
struct SeriesCheck: Sendable {
    var series: ArchiveSeries
    /// raw's copy of the series; `nil` when raw has none of it.
    var local: LocalSeries?
    /// SOPInstanceUIDs the archive has and raw lacks, when the two were listed (counts differed).
    var missing: [String]?
    var present: Int

    var expected: Int { series.expected ?? 0 }
    var isComplete: Bool { present >= expected }
    /// The whole series is missing: it is moved at series level.
    var isWhollyMissing: Bool { local == nil && expected > 0 }

    var record: SeriesRecord {
        SeriesRecord(seriesInstanceUID: series.uid, modality: series.modality, expectedInstances: series.expected, presentInstances: present)
    }
}
