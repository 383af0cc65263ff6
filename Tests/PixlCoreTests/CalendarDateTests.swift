import Testing

import PixlCore

struct CalendarDateTests {
    @Test func refusesDaysThatDoNotExist() {
        #expect(CalendarDate(year: 2024, month: 2, day: 29) != nil)
        #expect(CalendarDate(year: 2000, month: 2, day: 29) != nil)
        #expect(CalendarDate(year: 1900, month: 2, day: 29) == nil)
        #expect(CalendarDate(year: 2023, month: 2, day: 29) == nil)
        #expect(CalendarDate(year: 2024, month: 4, day: 31) == nil)
        #expect(CalendarDate(year: 2024, month: 13, day: 1) == nil)
        #expect(CalendarDate(year: 2024, month: 0, day: 1) == nil)
        #expect(CalendarDate(year: 2024, month: 1, day: 0) == nil)
        #expect(CalendarDate(year: 0, month: 1, day: 1) == nil)
        #expect(CalendarDate(year: 10_000, month: 1, day: 1) == nil)
    }

    @Test(arguments: ["2024-01-02", "0001-01-01", "9999-12-31", "2024-02-29"])
    func isoRoundTrips(text: String) throws {
        let date = try #require(CalendarDate(iso: text))
        #expect(date.description == text)
    }

    @Test(arguments: ["2024-1-02", "24-01-02", "2024-01-02T00:00", "2024/01/02", "2024-02-30", "+024-01-02", "2024-01--2", "", "2024-01-0x", "２０２４-01-02"])
    func isoRefusesOtherForms(text: String) {
        #expect(CalendarDate(iso: text) == nil)
    }

    @Test func printsWithPadding() {
        #expect(CalendarDate(year: 1, month: 2, day: 3)?.description == "0001-02-03")
    }

    @Test func countsDaysSinceTheEpoch() throws {
        let cases: [(String, Int)] = [("1970-01-01", 0), ("1969-12-31", -1), ("2000-03-01", 11_017), ("0001-01-01", -719_162), ("9999-12-31", 2_932_896)]
        for (text, days) in cases {
            let date = try #require(CalendarDate(iso: text))
            #expect(date.daysSinceEpoch == days)
            #expect(CalendarDate(daysSinceEpoch: days) == date)
        }
        #expect(CalendarDate(daysSinceEpoch: -719_163) == nil)
        #expect(CalendarDate(daysSinceEpoch: 2_932_897) == nil)
    }

    @Test func knowsTheWeekday() {
        #expect(CalendarDate(year: 2024, month: 1, day: 1)?.isoWeekday == 1)
        #expect(CalendarDate(year: 1970, month: 1, day: 1)?.isoWeekday == 4)
        #expect(CalendarDate(year: 1969, month: 12, day: 28)?.isoWeekday == 7)
    }

    @Test func ordersByDay() throws {
        let dates = try ["2024-01-02", "2023-12-31", "2024-01-01"].map { try #require(CalendarDate(iso: $0)) }
        #expect(dates.sorted().map(\.description) == ["2023-12-31", "2024-01-01", "2024-01-02"])
    }
}
