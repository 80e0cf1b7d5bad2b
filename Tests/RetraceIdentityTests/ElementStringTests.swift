import RetraceIdentity
import Testing

@Suite("GS1 element strings as scanners send them")
struct ElementStringTests {
    static let gtinField = "01" + Known.gtin14

    @Test("GS1 DataMatrix scan: ]d2, serial ended by GS, then expiry")
    func dataMatrixScan() throws {
        let result = try scan("]d2" + Self.gtinField + "21ABC123" + gs + "17250101")
        #expect(result.sgtin.gtin.digits == Known.gtin14)
        #expect(result.sgtin.serial.value == "ABC123")
        #expect(result.expiry?.iso8601 == "2025-01-01")
        #expect(result.form == .elementString)
        #expect(result.symbologyIdentifier == "]d2")
        #expect(result.lot == nil)
    }

    @Test("no symbology identifier and the serial last, without a GS after it")
    func serialLastWithoutSeparator() throws {
        let result = try scan(Self.gtinField + "21ABC123")
        #expect(result.sgtin.serial.value == "ABC123")
        #expect(result.symbologyIdentifier == nil)
    }

    @Test("a leading GS (FNC1 in first position) is allowed, with lot then serial")
    func leadingSeparator() throws {
        let result = try scan(gs + Self.gtinField + "10LOT1" + gs + "21XYZ")
        #expect(result.lot == "LOT1")
        #expect(result.sgtin.serial.value == "XYZ")
    }

    @Test("GS1 QR with production date, end-of-month expiry, lot and serial with punctuation")
    func qrWithEverything() throws {
        let result = try scan("]Q3" + Self.gtinField + "11240315" + "17260300" + "10L-7/8" + gs + "21S(1)")
        #expect(result.productionDate?.iso8601 == "2024-03-15")
        #expect(result.expiry?.iso8601 == "2026-03-31")
        #expect(result.expiry?.isEndOfMonth == true)
        #expect(result.lot == "L-7/8")
        #expect(result.sgtin.serial.value == "S(1)")
        #expect(result.symbologyIdentifier == "]Q3")
    }

    @Test("every GS1 symbology identifier is accepted", arguments: ["]d2", "]Q3", "]C1", "]e0", "]J1"])
    func symbologies(identifier: String) throws {
        let result = try scan(identifier + Self.gtinField + "21A1" + gs + "15250630")
        #expect(result.symbologyIdentifier == identifier)
        #expect(result.bestBefore?.iso8601 == "2025-06-30")
    }

    @Test("a GS after a fixed-length field and a trailing GS are tolerated")
    func tolerableSeparators() throws {
        #expect(try scan(Self.gtinField + gs + "21A").sgtin.serial.value == "A")
        #expect(try scan(Self.gtinField + "21A" + gs).sgtin.serial.value == "A")
    }

    @Test("a consumer product variant (22) is read")
    func consumerProductVariant() throws {
        let result = try scan(Self.gtinField + "22V1" + gs + "21A")
        #expect(result.consumerProductVariant == "V1")
    }

    @Test("supported extra AIs (00, 3103, 20, 12, 13, 16) are validated and passed through")
    func otherElements() throws {
        let result = try scan(
            "00106141411234567897" + Self.gtinField + "3103001250" + "2007" + "12250315" + "13250101" + "16250700"
                + "21A"
        )
        #expect(
            result.otherElements == [
                "00": "106141411234567897", "3103": "001250", "20": "07", "12": "250315", "13": "250101",
                "16": "250700",
            ]
        )
    }

    @Test(
        "a bad GTIN check digit is reported at the check digit, for every GTIN length padded to 14",
        arguments: [
            ("09506000134353", 2, 3), ("04006381333932", 1, 2), ("00036000291453", 2, 3), ("00000096385075", 4, 5),
        ]
    )
    func badCheckDigit(digits: String, expected: Int, found: Int) {
        expectRefused(
            "01" + digits + "21X",
            .badCheckDigit,
            at: 15,
            mentioning: [
                "expected \(expected)",
                "found \(found)",
            ]
        )
    }

    @Test("a non-digit in the GTIN is reported at its position")
    func nonDigitGTIN() {
        expectRefused("010950600013435X21A", .nonDigit, at: 15, mentioning: ["'X'"])
    }

    @Test("a GTIN cut short by the end of data is a truncated field")
    func truncatedAtEnd() {
        expectRefused("0109506000", .truncatedField, at: 10, mentioning: ["needs 14 digits", "after 8"])
    }

    @Test("a GTIN cut short by a GS is a truncated field at the GS")
    func truncatedBySeparator() {
        expectRefused("01095060" + gs + "21A", .truncatedField, at: 8)
    }

    @Test("data ending inside an AI is truncated")
    func truncatedAI() {
        expectRefused(Self.gtinField + "21A" + gs + "1", .truncatedField, at: 20)
    }

    @Test("a truncated expiry date at the end of data")
    func truncatedDate() {
        expectRefused(Self.gtinField + "21A" + gs + "172501", .truncatedField, at: 26, mentioning: ["AI (17)"])
    }

    @Test(
        "an unknown AI is named with its position",
        arguments: [
            ("99XYZ", "(99)"), ("7003250101120", "(7003)"), ("4101234567890128", "(410)"),
        ]
    )
    func unknownAI(tail: String, named: String) {
        expectRefused(Self.gtinField + "21A" + gs + tail, .unknownAI, at: 20, mentioning: [named, "position 20"])
    }

    @Test("an unknown AI right after the GTIN")
    func unknownAIAfterGTIN() {
        expectRefused(Self.gtinField + "99XYZ", .unknownAI, at: 16, mentioning: ["(99)"])
    }

    @Test("a serial longer than 20 characters is refused with its length")
    func serialTooLong() {
        expectRefused(
            Self.gtinField + "21" + String(repeating: "A", count: 21),
            .serialTooLong,
            at: 38,
            mentioning: ["21 characters"]
        )
    }

    @Test(
        "an illegal character in the serial is shown with its position",
        arguments: [
            ("AB#C", 20, "'#'"), ("AB C", 20, "U+0020 (space)"), ("ABC\u{7F}", 21, "U+007F (DEL)"),
        ]
    )
    func illegalSerialCharacter(serial: String, position: Int, shown: String) {
        expectRefused(Self.gtinField + "21" + serial, .illegalCharacter, at: position, mentioning: [shown])
    }

    @Test("a lot longer than 20 characters is refused")
    func lotTooLong() {
        expectRefused(Self.gtinField + "10" + String(repeating: "L", count: 21) + gs + "21A", .valueTooLong, at: 38)
    }

    @Test("without AI 21 the identity has no serial")
    func missingSerial() {
        expectRefused(Self.gtinField + "10LOT" + gs + "17250101", .missingSerial, mentioning: ["missing serial"])
    }

    @Test("without AI 01 there is no GTIN")
    func missingGTIN() {
        expectRefused("21ABC" + gs + "10LOT", .missingGTIN)
    }

    @Test("AI 21 with no characters before the GS is an empty serial")
    func emptySerial() {
        expectRefused(Self.gtinField + "21" + gs + "10LOT", .emptySerial, at: 18)
    }

    @Test("two GS in a row are an unexpected separator")
    func doubleSeparator() {
        expectRefused(Self.gtinField + "21A" + gs + gs + "10L", .unexpectedSeparator, at: 20)
    }

    @Test("non-AI characters after the data are trailing garbage")
    func trailingGarbage() {
        expectRefused(Self.gtinField + "21A" + gs + "xyz", .trailingGarbage, at: 20, mentioning: ["'x'"])
    }

    @Test("an AI repeated with a different value is a conflict; the same value is fine")
    func duplicates() throws {
        expectRefused(
            Self.gtinField + "21A" + gs + "21B",
            .duplicateAI,
            at: 20,
            mentioning: ["'A' at position 16", "'B' at position 20"]
        )
        expectRefused(Self.gtinField + "0104006381333931" + "21A", .duplicateAI, at: 16)
        #expect(try scan(Self.gtinField + "17250101" + "21A" + gs + "17250101").expiry?.iso8601 == "2025-01-01")
    }

    @Test(
        "expiry dates: leap day, non-leap 29 February, day 00, month 13, day 32",
        arguments: [
            ("17240229", "2024-02-29"), ("17250200", "2025-02-28"), ("17240200", "2024-02-29"), ("11991231", nil),
        ] as [(String, String?)]
    )
    func validDates(field: String, iso: String?) throws {
        let result = try scan(Self.gtinField + field + "21A")
        if let iso {
            #expect(result.expiry?.iso8601 == iso)
        } else {
            #expect(result.productionDate?.iso8601 == "1999-12-31")
        }
    }

    @Test(
        "invalid dates are refused at the month or day",
        arguments: [
            ("17250229", 22), ("17251301", 20), ("17250132", 22), ("15250431", 22), ("11250001", 20),
        ]
    )
    func invalidDates(field: String, offsetInField: Int) {
        // The date field starts at 16 (after 01 + GTIN); its month is at +4 and its day at +6.
        expectRefused(Self.gtinField + field + "21A", .invalidDate, at: offsetInField)
    }

    @Test("a non-digit in a date is refused")
    func nonDigitDate() {
        expectRefused(Self.gtinField + "1725A101" + "21A", .nonDigit, at: 20, mentioning: ["'A'", "AI (17)"])
    }

    @Test("an SSCC with a wrong check digit is refused")
    func badSSCC() {
        expectRefused(
            "00106141411234567898" + Self.gtinField + "21A",
            .badCheckDigit,
            at: 19,
            mentioning: ["SSCC", "expected 7"]
        )
    }

    @Test("a missing GS after the serial swallows the next AI when the result is still a valid serial")
    func missingSeparatorIsUndetectableWhenValid() throws {
        let result = try scan(Self.gtinField + "21ABC123" + "17250101")
        #expect(result.sgtin.serial.value == "ABC12317250101")
        #expect(result.expiry == nil)
    }

    @Test("a missing GS after the serial is caught when the swallowed data makes it too long")
    func missingSeparatorCaughtByLength() {
        expectRefused(Self.gtinField + "21ABC123456789" + "10LOT12345", .serialTooLong, at: 38)
    }

    @Test("a GS1 symbology identifier followed by the printed form is refused with a hint")
    func parenthesesAfterSymbology() {
        expectRefused("]d2(01)" + Known.gtin14 + "(21)A", .unrecognizedFormat, at: 3, mentioning: ["parentheses"])
    }
}
