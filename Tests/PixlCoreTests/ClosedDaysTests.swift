import Foundation
import PixlCore
import Testing

struct ClosedDaysTests {
    static let variable = "PIXL_PRIMARY_CALENDAR"

    func parse(_ text: String) throws(ConfigurationError) -> ClosedDays {
        try ClosedDays.parse(text, variable: Self.variable)
    }

    func date(_ text: String) -> CalendarDate { CalendarDate(iso: text)! }

    func range(_ first: String, _ last: String) -> ClosedRange<CalendarDate> { date(first)...date(last) }

    /// An iCalendar text with CRLF line ends, as servers send it.
    func calendar(_ lines: [String]) -> String {
        (["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//PIXL tests//EN"] + lines + ["END:VCALENDAR"]).joined(separator: "\r\n") + "\r\n"
    }

    // MARK: Plain list

    @Test func plainListReadsDatesRangesAndComments() throws {
        let days = try parse(
            """
            # England and Wales, and the PACS upgrade

              2026-12-25
            2026-12-28   # Boxing Day (substitute day)
            2027-03-01..2027-03-03
            2027-04-10 / 2027-04-11
            2026-12-26..2026-12-26
            """
        )
        #expect(
            days.ranges == [
                range("2026-12-25", "2026-12-26"), range("2026-12-28", "2026-12-28"), range("2027-03-01", "2027-03-03"),
                range("2027-04-10", "2027-04-11"),
            ]
        )
        #expect(days.dayCount == 8)
    }

    @Test func plainListAcceptsCRLFAndTheLongestRange() throws {
        let days = try parse("2028-01-01..2028-12-31\r\n2026-12-25\r\n")
        #expect(days.ranges == [range("2026-12-25", "2026-12-25"), range("2028-01-01", "2028-12-31")])
        #expect(days.dayCount == 367)
    }

    @Test(arguments: ["", "\n\n", "  # nothing closed yet\n", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"])
    func emptyTextClosesNothing(text: String) throws {
        let days = try parse(text)
        #expect(days.isEmpty)
        #expect(days == .none)
        #expect(!days.isClosed(Date(), in: TimeZone(identifier: "Europe/London")!))
    }

    // MARK: Lookups

    @Test func mergesOverlappingAndTouchingRanges() {
        let days = ClosedDays([
            range("2026-12-28", "2026-12-31"), range("2026-12-24", "2026-12-25"), range("2026-12-26", "2026-12-29"),
            range("2027-01-02", "2027-01-02"),
        ])
        #expect(days.ranges == [range("2026-12-24", "2026-12-31"), range("2027-01-02", "2027-01-02")])
        #expect(days.contains(date("2026-12-24")))
        #expect(!days.contains(date("2027-01-01")))
        #expect(days.range(containing: date("2026-12-30")) == range("2026-12-24", "2026-12-31"))
        #expect(days.firstRange(endingOnOrAfter: date("2027-01-01")) == range("2027-01-02", "2027-01-02"))
        #expect(days.firstRange(endingOnOrAfter: date("2027-01-03")) == nil)
    }

    @Test func isClosedTakesTheLocalDateInTheZone() throws {
        let days = try parse("2026-12-25")
        // 23:30 UTC on Christmas Eve is still the 24th in London (GMT) but already the 25th in Berlin (CET).
        let moment = Date(timeIntervalSince1970: 1_798_155_000)  // 2026-12-24T23:30:00Z
        #expect(!days.isClosed(moment, in: TimeZone(identifier: "Europe/London")!))
        #expect(days.isClosed(moment, in: TimeZone(identifier: "Europe/Berlin")!))
    }

    // MARK: iCalendar

    @Test func readsAGovUKBankHolidayFeed() throws {
        // Shaped like https://www.gov.uk/bank-holidays/england-and-wales.ics, with a long SUMMARY folded as servers do.
        let text = calendar([
            "METHOD:PUBLISH",
            "X-WR-TIMEZONE:Europe/London",
            "CALSCALE:GREGORIAN",
            "BEGIN:VEVENT",
            "DTEND;VALUE=DATE:20261226",
            "SUMMARY:Christmas Day",
            "UID:ca6af7456b0088abad9a69f9f620f5ac-100@gov.uk",
            "SEQUENCE:0",
            "DTSTART;VALUE=DATE:20261225",
            "DTSTAMP:20260101T000000Z",
            "END:VEVENT",
            "BEGIN:VEVENT",
            "DTEND;VALUE=DATE:20261229",
            "SUMMARY:Boxing Day (substitute day) and a summary long enough to be fo",
            " lded over two lines",
            "UID:ca6af7456b0088abad9a69f9f620f5ac-101@gov.uk",
            "SEQUENCE:0",
            "DTSTART;VALUE=DATE:20261228",
            "DTSTAMP:20260101T000000Z",
            "END:VEVENT",
            "BEGIN:VEVENT",
            "DTEND;VALUE=DATE:20270102",
            "SUMMARY:New Year’s Day",
            "UID:ca6af7456b0088abad9a69f9f620f5ac-102@gov.uk",
            "SEQUENCE:0",
            "DTSTART;VALUE=DATE:20270101",
            "DTSTAMP:20260101T000000Z",
            "END:VEVENT",
        ])
        let days = try parse(text)
        #expect(days.ranges == [range("2026-12-25", "2026-12-25"), range("2026-12-28", "2026-12-28"), range("2027-01-01", "2027-01-01")])
    }

    @Test func unfoldsLinesWithSpacesOrTabsAndLFOrCRLF() throws {
        // A property name and a parameter split across lines; one fold with CRLF, one with a tab after LF.
        let text = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTST\r\n ART;VALUE=DA\n\tTE:20270315\nDURATION:P2D\r\nEND:VEVENT\nEND:VCALENDAR"
        #expect(try parse(text).ranges == [range("2027-03-15", "2027-03-16")])
    }

    @Test func dateTimeEventsCloseEveryDateTheyTouch() throws {
        let days = try parse(
            calendar([
                // A working day with a zone: the 25th.
                "BEGIN:VEVENT", "DTSTART;TZID=Europe/London:20261225T090000", "DTEND;TZID=Europe/London:20261225T170000", "END:VEVENT",
                // Overnight in UTC: the 1st and the 2nd of February.
                "BEGIN:VEVENT", "DTSTART:20270201T220000Z", "DTEND:20270202T020000Z", "END:VEVENT",
                // Ending at exactly midnight: the 1st of March only.
                "BEGIN:VEVENT", "DTSTART:20270301T080000", "DTEND:20270302T000000", "END:VEVENT",
                // A moment, without an end: its date.
                "BEGIN:VEVENT", "DTSTART;VALUE=DATE-TIME:20270401T120000Z", "END:VEVENT",
                // A time-based duration over midnight: the 10th and the 11th of May.
                "BEGIN:VEVENT", "DTSTART;TZID=\"Europe/London\":20270510T200000", "DURATION:PT6H", "END:VEVENT",
            ])
        )
        #expect(
            days.ranges == [
                range("2026-12-25", "2026-12-25"), range("2027-02-01", "2027-02-02"), range("2027-03-01", "2027-03-01"),
                range("2027-04-01", "2027-04-01"), range("2027-05-10", "2027-05-11"),
            ]
        )
    }

    @Test func dateEventsEndExclusivelyOrLastTheirDuration() throws {
        let days = try parse(
            calendar([
                "BEGIN:VEVENT", "DTSTART;VALUE=DATE:20270301", "DURATION:P3D", "END:VEVENT",
                "BEGIN:VEVENT", "DTSTART;VALUE=DATE:20270601", "DURATION:P1D", "END:VEVENT",
                "BEGIN:VEVENT", "DTSTART;VALUE=DATE:20270701", "DURATION:+P1W", "END:VEVENT",
                "BEGIN:VEVENT", "DTSTART;VALUE=DATE:20270901", "END:VEVENT",
                "BEGIN:VEVENT", "DTSTART;VALUE=DATE:20271001", "DTEND;VALUE=DATE:20271004", "END:VEVENT",
            ])
        )
        #expect(
            days.ranges == [
                range("2027-03-01", "2027-03-03"), range("2027-06-01", "2027-06-01"), range("2027-07-01", "2027-07-07"),
                range("2027-09-01", "2027-09-01"), range("2027-10-01", "2027-10-03"),
            ]
        )
    }

    @Test func skipsOtherComponentsCancelledEventsAndRecurrence() throws {
        let days = try parse(
            calendar([
                "BEGIN:VTIMEZONE", "TZID:Europe/London",
                "BEGIN:STANDARD", "DTSTART:19701025T020000", "TZOFFSETFROM:+0100", "TZOFFSETTO:+0000", "END:STANDARD",
                "END:VTIMEZONE",
                "BEGIN:VTODO", "DTSTART;VALUE=DATE:20270105", "DUE;VALUE=DATE:20270106", "END:VTODO",
                "BEGIN:VEVENT", "DTSTART;VALUE=DATE:20270110", "STATUS:CANCELLED", "END:VEVENT",
                // Weekly: only the first occurrence closes. The alarm's DURATION is not the event's.
                "BEGIN:VEVENT", "DTSTART;VALUE=DATE:20270111", "RRULE:FREQ=WEEKLY;COUNT=4",
                "BEGIN:VALARM", "TRIGGER:-PT15M", "DURATION:PT5M", "REPEAT:2", "ACTION:DISPLAY", "END:VALARM",
                "END:VEVENT",
            ])
        )
        #expect(days.ranges == [range("2027-01-11", "2027-01-11")])
    }

    // MARK: Errors

    /// A text, the line its error names, and words the problem must contain.
    struct BadText: Sendable, CustomTestStringConvertible {
        var text: String
        var line: Int
        var says: String
        var testDescription: String { says }
    }

    /// A calendar of one event with `lines` (starting at line 3).
    static func oneEvent(_ lines: String...) -> String {
        (["BEGIN:VCALENDAR", "BEGIN:VEVENT"] + lines + ["END:VEVENT", "END:VCALENDAR"]).joined(separator: "\n")
    }

    static let badTexts: [BadText] = [
        BadText(text: "2026-12-25\n2026-13-01", line: 2, says: "'2026-13-01' is not a date YYYY-MM-DD"),
        BadText(text: "2026-12-25 2026-12-26", line: 1, says: "is not a date"),
        BadText(text: "2026-12-25..", line: 1, says: "is not a date"),
        BadText(text: "# header\n\n2026-12-25..2026-12-24", line: 3, says: "ends (2026-12-24) before it starts (2026-12-25)"),
        BadText(text: "2026-01-01/2027-01-02", line: 1, says: "closes 367 days, more than 366"),
        BadText(text: "1899-12-31", line: 1, says: "has 1899-12-31, outside the years 1900 to 2199"),
        BadText(text: "2199-12-31..2200-01-01", line: 1, says: "has 2200-01-01, outside the years"),
        BadText(text: oneEvent("SUMMARY:No start"), line: 2, says: "opens a VEVENT that has no DTSTART"),
        BadText(text: oneEvent("DTSTART;VALUE=DATE:2026122"), line: 3, says: "is not a date YYYYMMDD"),
        BadText(text: oneEvent("DTSTART:20261232"), line: 3, says: "is not a date YYYYMMDD or date-time"),
        BadText(text: oneEvent("DTSTART:20261225T250000Z"), line: 3, says: "has no time of day"),
        BadText(text: oneEvent("DTSTART;VALUE=PERIOD:20261225"), line: 3, says: "has a VALUE other than DATE or DATE-TIME"),
        BadText(text: "BEGIN:VCALENDAR\nBEGIN:V EVENT\nEND:VCALENDAR", line: 2, says: "does not name a component"),
        BadText(
            text: oneEvent("DTSTART;VALUE=DATE:20261225", "DTEND;VALUE=DATE:20261224"),
            line: 4,
            says: "ends the VEVENT before its DTSTART (line 3)"
        ),
        BadText(text: oneEvent("DTSTART;VALUE=DATE:20261225", "DURATION:P367D"), line: 4, says: "closes 367 days"),
        BadText(text: oneEvent("DTSTART;VALUE=DATE:20261225", "DURATION:-P1D"), line: 4, says: "negative duration"),
        BadText(text: oneEvent("DTSTART;VALUE=DATE:20261225", "DURATION:1D"), line: 4, says: "is not a duration"),
        BadText(text: oneEvent("DTSTART;VALUE=DATE:20261225", "DURATION:P1D2D"), line: 4, says: "is not a duration"),
        BadText(
            text: oneEvent("DTSTART;VALUE=DATE:20261225", "DTEND;VALUE=DATE:20261226", "DURATION:P1D"),
            line: 5,
            says: "DURATION in a VEVENT that has a DTEND (line 4)"
        ),
        BadText(text: oneEvent("DTSTART;VALUE=DATE:18991231"), line: 3, says: "outside the years 1900 to 2199"),
        BadText(text: "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20261225\nEND:VCALENDAR", line: 4, says: "closes VCALENDAR but VEVENT (line 2)"),
        BadText(text: "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20261225\nEND:VEVENT\n", line: 1, says: "has no END:VCALENDAR"),
        BadText(text: oneEvent("DTSTART 20261225"), line: 3, says: "is not an iCalendar content line"),
        BadText(text: "BEGIN:VCALENDAR\nEND:VCALENDAR\nDTSTART:20261225", line: 3, says: "is outside BEGIN:VCALENDAR"),
        // The error names the physical line a folded line starts on.
        BadText(
            text: "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:folded\r\n  over\r\n  three lines\r\nDTSTART:2026-12-25\r\nEND:VEVENT\r\nEND:VCALENDAR",
            line: 6,
            says: "'DTSTART:2026-12-25' is not a date"
        ),
    ]

    @Test(arguments: badTexts)
    func errorsNameTheVariableAndLine(bad: BadText) {
        let error = #expect(throws: ConfigurationError.self) { try parse(bad.text) }
        #expect(error?.variable == Self.variable)
        #expect(error?.problem.hasPrefix("line \(bad.line)") == true, "\(error?.problem ?? "")")
        #expect(error?.problem.contains(bad.says) == true, "\(error?.problem ?? "")")
    }

    @Test func errorsQuoteAtMostFortyCharactersOfTheLine() {
        let line = "2026-12-25 " + String(repeating: "x", count: 40) + "SECRET"
        do {
            _ = try parse(line)
            Issue.record("parsed")
        } catch {
            #expect(error.problem == "line 1: '\(line.prefix(40))…' is not a date YYYY-MM-DD or a range YYYY-MM-DD..YYYY-MM-DD")
            #expect(!error.description.contains("SECRET"))
            #expect(error.description.hasPrefix("PIXL_PRIMARY_CALENDAR line 1: "))
        }
    }

    @Test func limitsTheEntries() throws {
        let dates = (0..<ClosedDays.maximumEntries).map { CalendarDate(daysSinceEpoch: 20_000 + 2 * $0)!.description }
        let full = try parse(dates.joined(separator: "\n"))
        #expect(full.ranges.count == ClosedDays.maximumEntries)
        let tooMany = ConfigurationError(variable: Self.variable, problem: "line 10001 is past the limit of 10000 entries (dates, ranges or events)")
        #expect(throws: tooMany) {
            _ = try parse((dates + ["2030-01-01"]).joined(separator: "\n"))
        }
    }

    @Test func limitsTheSize() {
        let text = String(repeating: "# padding\n", count: 110_000)
        #expect(text.utf8.count > ClosedDays.maximumTextSize)
        #expect(throws: ConfigurationError(variable: Self.variable, problem: "is larger than 1 MiB")) { _ = try parse(text) }
    }
}
