import Testing

import PixlCore

struct ExtractTimestampTests {
    /// ISO text in, Python `isoformat()` out.
    @Test(arguments: [
        ("2024-01-02", "2024-01-02T00:00:00"),
        ("2024-01-02T03:04", "2024-01-02T03:04:00"),
        ("2024-01-02T03:04:05", "2024-01-02T03:04:05"),
        ("2024-01-02 03:04:05", "2024-01-02T03:04:05"),
        ("2024-01-02T03:04:05Z", "2024-01-02T03:04:05+00:00"),
        ("2024-01-02T03:04:05+00:00", "2024-01-02T03:04:05+00:00"),
        ("2024-01-02T03:04:05-05:30", "2024-01-02T03:04:05-05:30"),
        ("2024-01-02T03:04:05+01:02:03", "2024-01-02T03:04:05+01:02:03"),
        ("2024-01-02T03:04:05.5", "2024-01-02T03:04:05.500000"),
        ("2024-01-02T03:04:05.000123", "2024-01-02T03:04:05.000123"),
        ("2024-01-02T03:04:05.123456789+00:00", "2024-01-02T03:04:05.123456789+00:00"),
        ("2024-01-02T03:04:05.000000001", "2024-01-02T03:04:05.000000001"),
        ("2024-01-02T03:04:05.000000", "2024-01-02T03:04:05"),
    ])
    func parsesAndPrintsLikePython(text: String, printed: String) throws {
        let timestamp = try #require(ExtractTimestamp(iso: text))
        #expect(timestamp.description == printed)
        #expect(ExtractTimestamp(iso: timestamp.description) == timestamp)
    }

    @Test func keepsTheFields() throws {
        let timestamp = try #require(ExtractTimestamp(iso: "2024-06-15T10:20:30.123456-01:30"))
        #expect(timestamp.date == CalendarDate(year: 2024, month: 6, day: 15))
        #expect(timestamp.hour == 10)
        #expect(timestamp.minute == 20)
        #expect(timestamp.second == 30)
        #expect(timestamp.nanosecond == 123_456_000)
        #expect(timestamp.utcOffsetSeconds == -5400)
        #expect(try #require(ExtractTimestamp(iso: "2024-06-15T10:20:30")).utcOffsetSeconds == nil)
    }

    @Test(arguments: [
        "", "2024-01-02T", "2024-01-02X03:04", "2024-01-02T3:04:05", "2024-01-02T24:00:00", "2024-01-02T03:60",
        "2024-01-02T03:04:60", "2024-01-02T03:04:05.", "2024-01-02T03:04:05.1234567890", "2024-01-02T03:04:05+24:00",
        "2024-01-02T03:04:05+01", "2024-01-02T03:04:05+0100", "2024-02-30T00:00:00", "2024-01-02T03:04:05Z+01:00",
        "2024-01-02T03:04:05.12a",
    ])
    func refusesMalformedText(text: String) {
        #expect(ExtractTimestamp(iso: text) == nil)
    }

    @Test func refusesOutOfRangeFields() throws {
        let date = try #require(CalendarDate(year: 2024, month: 1, day: 2))
        #expect(ExtractTimestamp(date: date, hour: 24) == nil)
        #expect(ExtractTimestamp(date: date, minute: 60) == nil)
        #expect(ExtractTimestamp(date: date, second: 60) == nil)
        #expect(ExtractTimestamp(date: date, nanosecond: 1_000_000_000) == nil)
        #expect(ExtractTimestamp(date: date, utcOffsetSeconds: 86_400) == nil)
        #expect(ExtractTimestamp(date: date, utcOffsetSeconds: -86_399) != nil)
    }

    @Test func printsSubMinuteAndNegativeOffsets() throws {
        let date = try #require(CalendarDate(year: 1, month: 1, day: 1))
        #expect(ExtractTimestamp(date: date, utcOffsetSeconds: -1)?.description == "0001-01-01T00:00:00-00:00:01")
        #expect(ExtractTimestamp(date: date, nanosecond: 1000, utcOffsetSeconds: 0)?.description == "0001-01-01T00:00:00.000001+00:00")
    }
}
