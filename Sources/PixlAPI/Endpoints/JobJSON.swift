public import Foundation
public import PixlCore

extension Job {
    /// The job object of SPEC §5 as one line of JSON, as the API and `pixl-imaging process` print it.
    public var jsonText: String { json.serialized() }

    /// The job object of SPEC §5, keys in a fixed order; no patient identifiers.
    var json: JSONValue {
        .object([
            "id": .string(id.uuidString.lowercased()),
            "state": .string(state.rawValue),
            "reason": reason.map(JSONValue.string) ?? .null,
            "attempts": .integer(Int64(attempts)),
            "archive": archive.map { .string($0.rawValue) } ?? .null,
            "lane": .string(lane.rawValue),
            "studies": .array(studies.compactMap(\.orthancID).map(JSONValue.string)),
            "study_details": .array(studies.map(\.json)),
            "project_name": .string(message.projectName),
            "priority": .integer(Int64(message.priority)),
            "created_at": .string(ISO8601UTC.format(createdAt)),
            "updated_at": .string(ISO8601UTC.format(updatedAt)),
            "next_attempt_at": nextAttemptAt.map { .string(ISO8601UTC.format($0)) } ?? .null,
            "started_at": startedAt.map { .string(ISO8601UTC.format($0)) } ?? .null,
        ])
    }
}

extension StudyRecord {
    /// One study of the job object: where it is in orthanc-raw and how complete, per series.
    var json: JSONValue {
        .object([
            "orthanc_id": orthancID.map(JSONValue.string) ?? .null,
            "study_uid": .string(studyInstanceUID),
            "archive": .string(archive.rawValue),
            "expected_instances": expectedInstances.map { .integer(Int64($0)) } ?? .null,
            "present_instances": .integer(Int64(presentInstances)),
            "series": .array(
                series.map { series in
                    .object([
                        "series_uid": .string(series.seriesInstanceUID),
                        "modality": series.modality.map(JSONValue.string) ?? .null,
                        "expected_instances": series.expectedInstances.map { .integer(Int64($0)) } ?? .null,
                        "present_instances": .integer(Int64(series.presentInstances)),
                    ])
                }
            ),
        ])
    }
}

/// ISO 8601 timestamps in UTC with microseconds: `2026-11-29T06:27:21.123456Z`.
public enum ISO8601UTC {
    public static func format(_ date: Date) -> String {
        let totalMicros = (date.timeIntervalSince1970 * 1_000_000).rounded(.down)
        let micros = Int64(totalMicros)
        var days = micros / 86_400_000_000
        var rest = micros % 86_400_000_000
        if rest < 0 {
            rest += 86_400_000_000
            days -= 1
        }
        let day = CalendarDate(daysSinceEpoch: Int(days)) ?? CalendarDate(year: 1970, month: 1, day: 1)!
        let seconds = rest / 1_000_000
        let fraction = rest % 1_000_000
        func pad(_ value: Int64, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(day)T\(pad(seconds / 3600, 2)):\(pad(seconds / 60 % 60, 2)):\(pad(seconds % 60, 2)).\(pad(fraction, 6))Z"
    }

    /// Parses an ISO 8601 date-time; one without an offset is read as UTC.
    public static func parse(_ text: String) -> Date? {
        guard let timestamp = ExtractTimestamp(iso: text) else { return nil }
        let seconds =
            Double(timestamp.date.daysSinceEpoch) * 86_400 + Double(timestamp.hour * 3600 + timestamp.minute * 60 + timestamp.second)
            - Double(timestamp.utcOffsetSeconds ?? 0)
        return Date(timeIntervalSince1970: seconds + Double(timestamp.nanosecond) / 1e9)
    }
}
