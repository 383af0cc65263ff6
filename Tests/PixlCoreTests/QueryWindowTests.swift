import Foundation
import PixlCore
import Testing

struct QueryWindowTests {
    let london = TimeZone(identifier: "Europe/London")!

    /// A moment given as London wall-clock time.
    func london(_ text: String) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = london
        let parts = text.split(whereSeparator: { "- :".contains($0) }).map { Int($0)! }
        return calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2], hour: parts[3], minute: parts[4]))!
    }

    var defaultWindow: QueryWindow { QueryWindow(timeZone: london) }

    @Test func weekdayNightIsOpen() {
        // Wednesday 2026-11-25.
        #expect(defaultWindow.isOpen(at: london("2026-11-25 23:30")))
        #expect(defaultWindow.isOpen(at: london("2026-11-25 03:00")))
    }

    @Test func weekdayDayIsClosedUntilEightPM() {
        let noon = london("2026-11-25 12:00")
        #expect(!defaultWindow.isOpen(at: noon))
        #expect(defaultWindow.nextOpening(after: noon) == london("2026-11-25 20:00"))
    }

    @Test func edgesAreStartInclusiveEndExclusive() {
        #expect(defaultWindow.isOpen(at: london("2026-11-25 20:00")))
        #expect(!defaultWindow.isOpen(at: london("2026-11-25 19:59")))
        #expect(defaultWindow.isOpen(at: london("2026-11-25 07:59")))
        #expect(!defaultWindow.isOpen(at: london("2026-11-25 08:00")))
    }

    @Test func weekendIsClosedByDefaultAndOpenWhenEnabled() {
        // Saturday 2026-11-28, Sunday 2026-11-29.
        let saturdayNight = london("2026-11-28 22:00")
        #expect(!defaultWindow.isOpen(at: saturdayNight))
        // The next opening is Monday's early morning.
        #expect(defaultWindow.nextOpening(after: saturdayNight) == london("2026-11-30 00:00"))
        var weekends = defaultWindow
        weekends.includesWeekends = true
        #expect(weekends.isOpen(at: london("2026-11-28 12:00")))
        #expect(weekends.isOpen(at: london("2026-11-29 15:00")))
    }

    @Test func fridayDayDefersToFridayEvening() {
        let fridayMorning = london("2026-11-27 09:00")
        #expect(defaultWindow.nextOpening(after: fridayMorning) == london("2026-11-27 20:00"))
    }

    @Test func daylightSavingChangeKeepsLocalHours() {
        // Clocks go back on Sunday 2026-10-25; Monday 26th 20:00 is GMT, Friday 23rd 20:00 was BST.
        let beforeChange = london("2026-10-23 20:00")
        let afterChange = london("2026-10-26 20:00")
        #expect(defaultWindow.isOpen(at: beforeChange))
        #expect(defaultWindow.isOpen(at: afterChange))
        #expect(afterChange.timeIntervalSince(beforeChange) == 3 * 86_400 + 3_600)
        // From Friday noon in BST the window opens at 19:00 UTC; from Monday noon in GMT at 20:00 UTC.
        let utc = TimeZone(identifier: "UTC")!
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = utc
        #expect(calendar.component(.hour, from: defaultWindow.nextOpening(after: london("2026-10-23 12:00"))!) == 19)
        #expect(calendar.component(.hour, from: defaultWindow.nextOpening(after: london("2026-10-26 12:00"))!) == 20)
        // Spring forward (Sunday 2026-03-29): Monday 2026-03-30 07:59 BST is still in the window.
        #expect(defaultWindow.isOpen(at: london("2026-03-30 07:59")))
    }

    @Test func alwaysAndNever() {
        let always = QueryWindow(hours: .always, timeZone: london)
        let never = QueryWindow(hours: .never, timeZone: london)
        let saturdayNoon = london("2026-11-28 12:00")
        #expect(always.isOpen(at: saturdayNoon))
        #expect(!never.isOpen(at: saturdayNoon))
        #expect(never.nextOpening(after: saturdayNoon) == nil)
    }

    @Test func parsesHours() {
        #expect(QueryWindow.parseHours("20:00-08:00") == .range(start: 1200, end: 480))
        #expect(QueryWindow.parseHours("always") == .always)
        #expect(QueryWindow.parseHours("NEVER") == .never)
        #expect(QueryWindow.parseHours("25:00-08:00") == nil)
        #expect(QueryWindow.parseHours("08:00-08:00") == nil)
        #expect(QueryWindow.parseHours("8-20") == nil)
    }
}
