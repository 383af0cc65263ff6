import Foundation
import PixlCore
import Testing

struct LaneScheduleTests {
    let london = TimeZone(identifier: "Europe/London")!
    let utc = TimeZone(identifier: "UTC")!

    /// A moment given as wall-clock time `YYYY-MM-DD HH:MM` in `zone` (London unless said).
    func at(_ text: String, in zone: TimeZone? = nil) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone ?? london
        let parts = text.split(whereSeparator: { "- :".contains($0) }).map { Int($0)! }
        return calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2], hour: parts[3], minute: parts[4]))!
    }

    /// An exact instant, `YYYY-MM-DD HH:MM` in UTC.
    func utc(_ text: String) -> Date { at(text, in: utc) }

    func closed(_ lines: String...) -> ClosedDays {
        try! ClosedDays.parse(lines.joined(separator: "\n"), variable: "PIXL_SECONDARY_CALENDAR")
    }

    /// The default secondary window: 20:00-08:00 on weekdays, in London.
    var nights: QueryWindow { QueryWindow(timeZone: london) }

    var always: QueryWindow { QueryWindow(hours: .always, timeZone: london) }

    // MARK: Closed days and the window

    @Test func closedTomorrowCutsTonightShortAndOpensTheNightAfter() {
        // Closed Thursday 2026-11-26. The window covers Wednesday evening until midnight, none of Thursday, then
        // Friday's early morning: from local midnight (GMT in November, so UTC too).
        let schedule = LaneSchedule(window: nights, closedDays: closed("2026-11-26"))
        #expect(schedule.isOpen(at: at("2026-11-25 23:30")))
        #expect(!schedule.isOpen(at: at("2026-11-26 03:00")))
        #expect(!schedule.isOpen(at: at("2026-11-26 21:00")))
        #expect(schedule.nextOpening(after: at("2026-11-25 12:00")) == at("2026-11-25 20:00"))
        #expect(schedule.nextChange(after: at("2026-11-25 20:00")) == utc("2026-11-26 00:00"))
        #expect(schedule.nextOpening(after: at("2026-11-26 03:00")) == utc("2026-11-27 00:00"))
        #expect(schedule.nextChange(after: at("2026-11-26 03:00")) == utc("2026-11-27 00:00"))
        #expect(schedule.nextChange(after: utc("2026-11-27 00:00")) == utc("2026-11-27 08:00"))
        // Without the closed day the same night runs on to Thursday 08:00.
        #expect(LaneSchedule(window: nights).nextChange(after: at("2026-11-25 20:00")) == at("2026-11-26 08:00"))
    }

    @Test func closedRangeOverAWeekendOpensOnTheDayAfter() {
        // Closed Friday 2026-11-27 to Monday 2026-11-30: Thursday night ends at midnight, Tuesday's early morning opens.
        let schedule = LaneSchedule(window: nights, closedDays: closed("2026-11-27..2026-11-30"))
        #expect(schedule.nextChange(after: at("2026-11-26 22:00")) == at("2026-11-27 00:00"))
        #expect(schedule.nextOpening(after: at("2026-11-27 00:00")) == at("2026-12-01 00:00"))
        var weekends = schedule
        weekends.window.includesWeekends = true
        #expect(!weekends.isOpen(at: at("2026-11-28 12:00")))
        #expect(weekends.nextOpening(after: at("2026-11-28 12:00")) == at("2026-12-01 00:00"))
        // Without the range, the weekend window is open from Friday evening to Monday 08:00.
        #expect(LaneSchedule(window: weekends.window).nextChange(after: at("2026-11-27 20:00")) == at("2026-11-30 08:00"))
    }

    @Test func alwaysWindowOpensAtTheMidnightAfterTheRange() {
        let schedule = LaneSchedule(window: always, closedDays: closed("2026-12-25..2026-12-28"))
        let christmasEve = at("2026-12-24 12:00")
        #expect(schedule.nextOpening(after: christmasEve) == christmasEve)
        #expect(schedule.nextChange(after: christmasEve) == utc("2026-12-25 00:00"))
        #expect(schedule.nextOpening(after: at("2026-12-25 10:00")) == utc("2026-12-29 00:00"))
        #expect(schedule.nextChange(after: at("2026-12-27 23:59")) == utc("2026-12-29 00:00"))
        // Open from then on: nothing changes again.
        #expect(schedule.nextChange(after: utc("2026-12-29 00:00")) == nil)
    }

    @Test func alwaysAndNeverWithoutClosedDays() {
        let noon = at("2026-11-28 12:00")
        let open = LaneSchedule(window: always)
        #expect(open.isOpen(at: noon))
        #expect(open.nextOpening(after: noon) == noon)
        #expect(open.nextChange(after: noon) == nil)
        let shut = LaneSchedule(window: QueryWindow(hours: .never, timeZone: london), closedDays: closed("2026-12-25"))
        #expect(!shut.isOpen(at: noon))
        #expect(shut.nextOpening(after: noon) == nil)
        #expect(shut.nextChange(after: noon) == nil)
    }

    @Test func changesAreExactToTheMinute() {
        let schedule = LaneSchedule(window: nights)
        #expect(schedule.nextChange(after: at("2026-11-25 19:59").addingTimeInterval(59.5)) == at("2026-11-25 20:00"))
        #expect(schedule.nextChange(after: at("2026-11-26 07:59").addingTimeInterval(30)) == at("2026-11-26 08:00"))
        #expect(schedule.nextOpening(after: at("2026-11-25 20:00").addingTimeInterval(-0.001)) == at("2026-11-25 20:00"))
    }

    // MARK: Clock changes in London

    @Test func closedSaturdayBeforeSpringForwardOpensAtSundayMidnightGMT() {
        // 2026-03-29: the clocks go forward at 01:00 GMT, after midnight.
        let saturday = LaneSchedule(window: always, closedDays: closed("2026-03-28"))
        #expect(saturday.nextOpening(after: at("2026-03-28 12:00")) == utc("2026-03-29 00:00"))
        // Closing the Sunday instead: it is 23 hours long, so Monday starts at 23:00 UTC.
        let sunday = LaneSchedule(window: always, closedDays: closed("2026-03-29"))
        #expect(sunday.nextChange(after: at("2026-03-28 12:00")) == utc("2026-03-29 00:00"))
        #expect(sunday.nextOpening(after: at("2026-03-29 12:00")) == utc("2026-03-29 23:00"))
    }

    @Test func nightsAcrossTheAutumnChange() {
        // 2026-10-25: the clocks go back at 01:00 UTC. Friday 23rd is BST (UTC+1), Monday 26th GMT.
        let schedule = LaneSchedule(window: nights)
        #expect(schedule.nextOpening(after: at("2026-10-23 12:00")) == utc("2026-10-23 19:00"))
        #expect(schedule.nextChange(after: at("2026-10-23 21:00")) == utc("2026-10-23 23:00"))
        #expect(schedule.nextOpening(after: utc("2026-10-23 23:00")) == utc("2026-10-26 00:00"))
        #expect(schedule.nextChange(after: utc("2026-10-26 00:00")) == utc("2026-10-26 08:00"))
        #expect(schedule.nextOpening(after: utc("2026-10-26 08:00")) == utc("2026-10-26 20:00"))

        var weekends = schedule
        weekends.window.includesWeekends = true
        #expect(weekends.nextChange(after: at("2026-10-23 21:00")) == utc("2026-10-26 08:00"))
        // Closing the 25-hour Sunday: from Saturday 23:00 UTC to Monday 00:00 UTC.
        weekends.closedDays = closed("2026-10-25")
        #expect(weekends.nextChange(after: at("2026-10-24 12:00")) == utc("2026-10-24 23:00"))
        #expect(weekends.nextOpening(after: utc("2026-10-24 23:00")) == utc("2026-10-26 00:00"))
        #expect(weekends.nextChange(after: utc("2026-10-26 00:00")) == utc("2026-10-26 08:00"))
    }

    @Test func theChangesOf2027() {
        // Last Sundays: 2027-03-28 (forward) and 2027-10-31 (back).
        let schedule = LaneSchedule(window: nights)
        #expect(schedule.nextChange(after: at("2027-03-26 21:00")) == utc("2027-03-27 00:00"))
        #expect(schedule.nextOpening(after: at("2027-03-27 12:00")) == utc("2027-03-28 23:00"))
        #expect(schedule.nextChange(after: utc("2027-03-28 23:00")) == utc("2027-03-29 07:00"))
        #expect(schedule.nextOpening(after: at("2027-10-30 12:00")) == utc("2027-11-01 00:00"))

        let closedSundays = LaneSchedule(window: always, closedDays: closed("2027-03-28", "2027-10-31"))
        #expect(closedSundays.nextOpening(after: at("2027-03-28 12:00")) == utc("2027-03-28 23:00"))
        #expect(closedSundays.nextChange(after: at("2027-10-30 12:00")) == utc("2027-10-30 23:00"))
        #expect(closedSundays.nextOpening(after: utc("2027-10-30 23:00")) == utc("2027-11-01 00:00"))
    }

    // MARK: Clock changes inside the window

    @Test func windowStartSkippedByTheClocks() {
        // Cairo moves from 00:00 to 01:00 on Friday 2026-04-24 (EET to EEST): a 00:30 start happens at 01:00 local.
        let cairo = TimeZone(identifier: "Africa/Cairo")!
        let schedule = LaneSchedule(window: QueryWindow(hours: .range(start: 30, end: 360), timeZone: cairo))
        #expect(schedule.nextOpening(after: at("2026-04-23 12:00", in: cairo)) == utc("2026-04-23 22:00"))
        #expect(schedule.nextChange(after: utc("2026-04-23 22:00")) == utc("2026-04-24 03:00"))
    }

    @Test func windowRepeatedByTheClocks() {
        // Cairo goes back from 24:00 to 23:00 on Thursday 2026-10-29: 23:30-23:45 happens twice, in EEST then EET.
        let cairo = TimeZone(identifier: "Africa/Cairo")!
        let schedule = LaneSchedule(window: QueryWindow(hours: .range(start: 23 * 60 + 30, end: 23 * 60 + 45), timeZone: cairo))
        var changes: [Date] = []
        var moment = at("2026-10-29 12:00", in: cairo)
        for _ in 0..<5 {
            guard let next = schedule.nextChange(after: moment) else { break }
            changes.append(next)
            moment = next
        }
        #expect(
            changes == [utc("2026-10-29 20:30"), utc("2026-10-29 20:45"), utc("2026-10-29 21:30"), utc("2026-10-29 21:45"), utc("2026-10-30 21:30")]
        )
    }

    // MARK: Long ranges and the horizon

    @Test func aYearClosedIsSteppedOver() {
        // Closed all of 2027; 2028-01-01 is a Saturday, so the window next opens on Monday 3rd's early morning.
        let schedule = LaneSchedule(window: nights, closedDays: closed("2027-01-01..2027-12-31"))
        #expect(schedule.nextChange(after: at("2026-12-31 21:00")) == utc("2027-01-01 00:00"))
        #expect(schedule.nextOpening(after: utc("2027-01-01 00:00")) == utc("2028-01-03 00:00"))
    }

    @Test func nothingBeyondTheHorizon() {
        // Two touching years closed: 731 days, more than the 400 looked at.
        let closedDays = closed("2027-01-01..2027-12-31", "2028-01-01..2028-12-31")
        #expect(closedDays.ranges.count == 1)
        let schedule = LaneSchedule(window: nights, closedDays: closedDays)
        #expect(schedule.nextOpening(after: utc("2027-01-01 00:00")) == nil)
        let always = LaneSchedule(window: always, closedDays: closed("2028-06-01"))
        #expect(always.nextChange(after: utc("2027-01-01 00:00")) == nil)
        #expect(always.nextChange(after: utc("2027-06-01 00:00")) == at("2028-06-01 00:00"))
    }
}
