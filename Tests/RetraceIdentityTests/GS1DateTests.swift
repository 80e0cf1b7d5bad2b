import Foundation
import RetraceIdentity
import Testing

@Suite("GS1 YYMMDD dates")
struct GS1DateTests {
    @Test(
        "the GS1 century rule keeps years within reference − 49 … reference + 50",
        arguments: [
            (25, 2025, 2025), (75, 2025, 2075), (76, 2025, 1976), (0, 2025, 2000), (99, 2025, 1999),
            (30, 2080, 2130), (31, 2080, 2031), (49, 1999, 2049), (50, 1999, 1950), (0, 2100, 2100),
        ]
    )
    func centuryRule(yy: Int, reference: Int, year: Int) {
        #expect(GS1Date.year(fromYY: yy, referenceYear: reference) == year)
    }

    @Test("a plain date reads as YYYY-MM-DD")
    func plainDate() throws {
        let date = try GS1Date(yymmdd: "250101", referenceYear: referenceYear)
        #expect((date.year, date.month, date.day) == (2025, 1, 1))
        #expect(date.iso8601 == "2025-01-01")
        #expect(date.description == "2025-01-01")
        #expect(date.yymmdd == "250101")
        #expect(!date.isEndOfMonth)
    }

    @Test(
        "29 February exists in leap years only (2000 yes, 2100 no)",
        arguments: [
            ("240229", 2025, true), ("250229", 2025, false), ("000229", 2025, true), ("000229", 2080, false),
            ("280229", 2025, true),
        ]
    )
    func leapDay(text: String, reference: Int, valid: Bool) {
        let parsed = try? GS1Date(yymmdd: text, referenceYear: reference)
        #expect((parsed != nil) == valid)
        if !valid {
            expectFailure(.invalidDate, at: 4, mentioning: ["day 29", "28 days"]) { () throws(IdentityError) in
                _ = try GS1Date(yymmdd: text, referenceYear: reference)
            }
        }
    }

    @Test(
        "day 00 means the last day of the month and is written back as 00",
        arguments: [
            ("250200", "2025-02-28"), ("240200", "2024-02-29"), ("250400", "2025-04-30"), ("251200", "2025-12-31"),
        ]
    )
    func dayZero(text: String, iso: String) throws {
        let date = try GS1Date(yymmdd: text, referenceYear: referenceYear)
        #expect(date.iso8601 == iso)
        #expect(date.isEndOfMonth)
        #expect(date.yymmdd == text)
    }

    @Test("a day-00 date equals the explicit last day and dates order by calendar")
    func equalityAndOrder() throws {
        let endOfFebruary = try GS1Date(yymmdd: "250200", referenceYear: referenceYear)
        #expect(try endOfFebruary == GS1Date(yymmdd: "250228", referenceYear: referenceYear))
        #expect(try endOfFebruary == GS1Date(year: 2025, month: 2, day: 28))
        #expect(try endOfFebruary < GS1Date(yymmdd: "250301", referenceYear: referenceYear))
        #expect(
            try GS1Date(yymmdd: "991231", referenceYear: referenceYear)
                < GS1Date(yymmdd: "000101", referenceYear: referenceYear)
        )
    }

    @Test("months 00 and 13 are refused at the month's position", arguments: ["251301", "250001", "259915"])
    func badMonth(text: String) {
        expectFailure(.invalidDate, at: 2, mentioning: ["month", "01 to 12"]) { () throws(IdentityError) in
            _ = try GS1Date(yymmdd: text, referenceYear: referenceYear)
        }
    }

    @Test("days past the month's end are refused at the day's position", arguments: ["250132", "250431", "250699"])
    func badDay(text: String) {
        expectFailure(.invalidDate, at: 4, mentioning: ["day"]) { () throws(IdentityError) in
            _ = try GS1Date(yymmdd: text, referenceYear: referenceYear)
        }
    }

    @Test("non-digits and wrong lengths are refused")
    func malformed() {
        expectFailure(.nonDigit, at: 3, mentioning: ["'A'"]) { () throws(IdentityError) in
            _ = try GS1Date(yymmdd: "250A01", referenceYear: referenceYear)
        }
        expectFailure(.truncatedField) { () throws(IdentityError) in
            _ = try GS1Date(yymmdd: "25010", referenceYear: referenceYear)
        }
        expectFailure(.wrongLength) { () throws(IdentityError) in
            _ = try GS1Date(yymmdd: "2501011", referenceYear: referenceYear)
        }
    }

    @Test("explicit calendar dates are validated too")
    func explicitInit() throws {
        #expect(try GS1Date(year: 2024, month: 2, day: 29).iso8601 == "2024-02-29")
        expectFailure(.invalidDate) { () throws(IdentityError) in _ = try GS1Date(year: 2023, month: 2, day: 29) }
        expectFailure(.invalidDate) { () throws(IdentityError) in _ = try GS1Date(year: 2023, month: 0, day: 1) }
        expectFailure(.invalidDate) { () throws(IdentityError) in _ = try GS1Date(year: 2023, month: 5, day: 0) }
    }

    @Test("the default reference year is the current year in UTC, as Foundation's calendar says")
    func currentYear() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0)!
        let expected = calendar.component(.year, from: Date())
        // Read again only if the year turned between the two reads.
        #expect(GS1Date.currentYear == expected || calendar.component(.year, from: Date()) != expected)
    }

    @Test(
        "the year of a day since 1970-01-01 at the edges of years, leap days and eras",
        arguments: [
            (0, 1970), (-1, 1969), (364, 1970), (365, 1971), (10_956, 1999), (10_957, 2000),
            (11_016, 2000), (11_017, 2000), (11_322, 2000), (11_323, 2001), (20_818, 2026), (20_819, 2027),
            (47_481, 2099), (47_482, 2100), (-719_528, 0), (-719_529, -1), (-25_568, 1899), (-25_567, 1900),
        ]
    )
    func yearOfDay(day: Int, year: Int) {
        #expect(GS1Date.year(ofDay: day) == year)
    }

    @Test("the year of every day from 1600 to 2400 agrees with Foundation's Gregorian calendar")
    func yearOfDayAgreesWithCalendar() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0)!
        var mismatches: [Int] = []
        for day in stride(from: -135_140, through: 157_000, by: 1) where day % 97 == 0 || day % 365 < 3 {
            let date = Date(timeIntervalSince1970: Double(day) * 86_400)
            if GS1Date.year(ofDay: day) != calendar.component(.year, from: date) { mismatches.append(day) }
        }
        #expect(mismatches.isEmpty, "days \(mismatches.prefix(5))")
    }
}
