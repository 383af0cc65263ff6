public import PixlCore

extension ImagingMessage {
    /// A valid synthetic message, distinct for each `index` (MRN, accession number and study UID follow it).
    public static func synthetic(_ index: Int, project: String = "proj", series: String = "") -> ImagingMessage {
        ImagingMessage(
            mrn: "MRN\(index)",
            accessionNumber: "ACC\(index)",
            studyUID: "1.2.3.\(index)",
            seriesUID: series,
            studyDate: CalendarDate(year: 2024, month: 3, day: 1 + index % 28)!,
            procedureOccurrenceID: Int64(1000 + index),
            projectName: project,
            extractGeneratedTimestamp: ExtractTimestamp(
                date: CalendarDate(year: 2024, month: 4, day: 2)!,
                hour: 10,
                minute: 11,
                second: 12,
                nanosecond: 345_678_000,
                utcOffsetSeconds: 3600
            )!
        )
    }
}
