import RetraceIdentity
import Testing

@Suite("Human-readable form (01)…(21)…")
struct HumanReadableTests {
    @Test("the full example with serial, lot and expiry")
    func fullExample() throws {
        let result = try scan("(01)09506000134352(21)ABC123(10)LOT1(17)250101")
        #expect(result.sgtin.gtin.digits == Known.gtin14)
        #expect(result.sgtin.serial.value == "ABC123")
        #expect(result.lot == "LOT1")
        #expect(result.expiry?.iso8601 == "2025-01-01")
        #expect(result.form == .humanReadable)
    }

    @Test("spaces typed around the AI markers are ignored")
    func spacesAroundMarkers() throws {
        let result = try scan("(01) 09506000134352 (21) ABC123 (17) 250101")
        #expect(result.sgtin.serial.value == "ABC123")
        #expect(result.expiry?.iso8601 == "2025-01-01")
    }

    @Test("a space inside a value is still illegal")
    func spaceInsideValue() {
        expectRefused("(01)09506000134352(21)AB C", .illegalCharacter, at: 24, mentioning: ["U+0020 (space)"])
    }

    @Test("parentheses that do not form an AI marker belong to the serial")
    func parenthesesInSerial() throws {
        #expect(try scan("(01)09506000134352(21)A(B)C").sgtin.serial.value == "A(B)C")
        #expect(try scan("(21)(1)(01)09506000134352").sgtin.serial.value == "(1)")
    }

    @Test(
        "a wrong check digit is reported for every GTIN length padded to 14",
        arguments: [
            ("09506000134353", 2, 3), ("04006381333932", 1, 2), ("00036000291453", 2, 3), ("00000096385075", 4, 5),
        ]
    )
    func badCheckDigit(digits: String, expected: Int, found: Int) {
        expectRefused(
            "(01)" + digits + "(21)X",
            .badCheckDigit,
            at: 17,
            mentioning: ["expected \(expected)", "found \(found)"]
        )
    }

    @Test("AI 01 takes exactly 14 digits: 13 is truncated, 15 is a wrong length")
    func gtinFieldLength() {
        expectRefused(
            "(01)" + Known.ean13 + "(21)X",
            .truncatedField,
            at: 17,
            mentioning: ["needs 14 digits", "left-padded with zeros"]
        )
        expectRefused("(01)" + Known.gtin14 + "0(21)X", .wrongLength, at: 18, mentioning: ["exactly 14"])
    }

    @Test("an unknown AI is named with its position")
    func unknownAI() {
        expectRefused("(01)09506000134352(99)X(21)A", .unknownAI, at: 18, mentioning: ["(99)"])
    }

    @Test("a malformed AI marker at the start is refused")
    func malformedMarker() {
        expectRefused("(0A)09506000134352", .unknownAI, at: 0, mentioning: ["'(0A)09'"])
    }

    @Test("without (21) there is no serial; (21) with nothing is an empty serial")
    func serialMissingOrEmpty() {
        expectRefused("(01)09506000134352(10)L", .missingSerial)
        expectRefused("(01)09506000134352(21)", .emptySerial, at: 22)
        expectRefused("(01)09506000134352(21)(10)L", .emptySerial, at: 22)
    }

    @Test("conflicting repeats are refused")
    func duplicate() {
        expectRefused("(01)09506000134352(21)A(21)B", .duplicateAI, at: 23)
    }

    @Test("dates are validated: truncated, month 13, 29 February 2025")
    func dates() {
        expectRefused("(01)09506000134352(21)A(17)2501", .truncatedField, at: 31)
        expectRefused("(01)09506000134352(21)A(17)251301", .invalidDate, at: 29)
        expectRefused("(01)09506000134352(21)A(17)250229", .invalidDate, at: 31)
    }

    @Test("a lot with an illegal character")
    func lotIllegal() {
        expectRefused("(01)09506000134352(10)L@1(21)A", .illegalCharacter, at: 23, mentioning: ["'@'", "AI (10)"])
    }
}
