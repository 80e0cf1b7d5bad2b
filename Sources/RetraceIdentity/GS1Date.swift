import Foundation

/// A calendar date from a GS1 YYMMDD field (AIs 11, 12, 13, 15, 16, 17).
///
/// Two GS1 rules are applied when reading YYMMDD:
/// - Century (GS1 General Specifications 7.12): with `R` the last two digits of the reference year and
///   `d = YY - R`, the year is in the previous century when `d >= 51`, the next century when `d <= -50`, and the
///   reference year's century otherwise. The window is therefore reference year − 49 … reference year + 50; e.g. with
///   reference year 2025, `75` is 2075 and `76` is 1976.
/// - Day `00` means "no day given": the date is the last day of that month (so `250200` is 2025-02-28). ``day``
///   holds that resolved day and ``isEndOfMonth`` remembers the `00`, which ``yymmdd`` writes back.
///
/// Equality, hashing and ordering use the resolved calendar day only: `250200` and `250228` are the same date.
public struct GS1Date: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    /// The calendar day, 1...31 (resolved to the month's last day when the field said `00`).
    public let day: Int
    /// The field carried day `00`.
    public let isEndOfMonth: Bool

    /// A real Gregorian calendar date; day 0 is refused here (use a YYMMDD string with `00` for end of month).
    public init(year: Int, month: Int, day: Int) throws(IdentityError) {
        guard (1...12).contains(month) else {
            throw IdentityError(.invalidDate, "month \(month) is not 1 to 12")
        }
        let last = Self.daysInMonth(month, year: year)
        guard (1...last).contains(day) else {
            throw IdentityError(.invalidDate, "day \(day) does not exist in \(year)-\(Self.pad(month)) (1 to \(last))")
        }
        self.year = year
        self.month = month
        self.day = day
        self.isEndOfMonth = false
    }

    /// Reads a 6-digit GS1 YYMMDD value, expanding the year around `referenceYear` by the GS1 century rule.
    public init(yymmdd: String, referenceYear: Int = GS1Date.currentYear) throws(IdentityError) {
        try self.init(source: SourceText(yymmdd), field: "date", referenceYear: referenceYear)
    }

    init(source: SourceText, field: String, referenceYear: Int) throws(IdentityError) {
        for (index, character) in source.characters.enumerated() where !character.isASCIIDigit {
            let position = source.offset(at: index)
            throw IdentityError(
                .nonDigit,
                "non-digit \(character.errorDescription) in \(field) at position \(position); "
                    + "expected YYMMDD",
                position: position
            )
        }
        guard source.count == 6 else {
            let code: IdentityError.Code = source.count < 6 ? .truncatedField : .wrongLength
            throw IdentityError(
                code,
                "\(field) at position \(source.offset(at: 0)) has \(source.count) digits; expected 6 (YYMMDD)",
                position: source.offset(at: min(source.count, 6))
            )
        }
        let digits = source.characters.map(\.digitValue)
        let yy = digits[0] * 10 + digits[1]
        let month = digits[2] * 10 + digits[3]
        let dd = digits[4] * 10 + digits[5]
        let year = Self.year(fromYY: yy, referenceYear: referenceYear)
        guard (1...12).contains(month) else {
            let position = source.offset(at: 2)
            throw IdentityError(
                .invalidDate,
                "invalid month \(Self.pad(month)) in \(field) at position \(position); expected 01 to 12",
                position: position
            )
        }
        let last = Self.daysInMonth(month, year: year)
        guard dd <= last else {
            let position = source.offset(at: 4)
            throw IdentityError(
                .invalidDate,
                "invalid day \(Self.pad(dd)) in \(field) at position \(position): "
                    + "\(year)-\(Self.pad(month)) has \(last) days (00 means the last day)",
                position: position
            )
        }
        self.year = year
        self.month = month
        self.day = dd == 0 ? last : dd
        self.isEndOfMonth = dd == 0
    }

    /// `YYYY-MM-DD` (ISO 8601 calendar date).
    public var iso8601: String {
        let yearText = String(year)
        return String(repeating: "0", count: max(0, 4 - yearText.count)) + yearText + "-" + Self.pad(month) + "-"
            + Self.pad(day)
    }

    /// The GS1 YYMMDD form, with day `00` when the field said so.
    public var yymmdd: String {
        Self.pad(((year % 100) + 100) % 100) + Self.pad(month) + Self.pad(isEndOfMonth ? 0 : day)
    }

    public var description: String { iso8601 }

    /// The current Gregorian year in UTC: the default reference for the GS1 century rule.
    ///
    /// Every parse of a scan asks for it (a default argument), so it is integer arithmetic on the
    /// clock rather than a Foundation `Calendar`, whose set-up cost more than the rest of parsing.
    public static var currentYear: Int {
        year(ofDay: Int((Date().timeIntervalSince1970 / 86_400).rounded(.down)))
    }

    /// The proleptic Gregorian year of a day counted from 1970-01-01 (Howard Hinnant's
    /// civil-from-days algorithm, the year only).
    public static func year(ofDay days: Int) -> Int {
        let shifted = days + 719_468  // days from 0000-03-01
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        // Years run from March here: January and February belong to the next civil year.
        let startsInMarch = (5 * dayOfYear + 2) / 153 < 10
        return yearOfEra + era * 400 + (startsInMarch ? 0 : 1)
    }

    /// The GS1 century rule (see the type's documentation): a year within reference − 49 … reference + 50.
    public static func year(fromYY yy: Int, referenceYear: Int) -> Int {
        let referenceYY = ((referenceYear % 100) + 100) % 100
        let century = referenceYear - referenceYY
        let difference = yy - referenceYY
        if difference >= 51 { return century - 100 + yy }
        if difference <= -50 { return century + 100 + yy }
        return century + yy
    }

    public static func isLeapYear(_ year: Int) -> Bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    public static func daysInMonth(_ month: Int, year: Int) -> Int {
        switch month {
        case 2: return isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    public static func == (lhs: GS1Date, rhs: GS1Date) -> Bool {
        (lhs.year, lhs.month, lhs.day) == (rhs.year, rhs.month, rhs.day)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(year)
        hasher.combine(month)
        hasher.combine(day)
    }

    public static func < (lhs: GS1Date, rhs: GS1Date) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    private static func pad(_ value: Int) -> String {
        value < 10 ? "0\(value)" : String(value)
    }
}
