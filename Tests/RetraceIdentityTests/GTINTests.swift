import RetraceIdentity
import Testing

@Suite("GTIN normalisation and check digits")
struct GTINTests {
    @Test(
        "GTIN-8, -12, -13 and -14 are normalised to 14 digits by left-padding with zeros",
        arguments: [
            (Known.gtin8, "00000096385074"),
            (Known.upcA, "00036000291452"),
            (Known.ean13, "04006381333931"),
            (Known.gtin14, "09506000134352"),
            (Known.tdsGTIN, "80614141123458"),
        ]
    )
    func normalises(text: String, digits: String) throws {
        #expect(try GTIN(text).digits == digits)
        #expect(try GTIN(text).description == digits)
    }

    @Test("a GTIN-13 and its padded GTIN-14 are the same GTIN")
    func paddedFormsAreEqual() throws {
        #expect(try GTIN(Known.ean13) == GTIN("0" + Known.ean13))
        #expect(try GTIN(Known.gtin8) == GTIN("000000" + Known.gtin8))
    }

    @Test(
        "a wrong check digit names the expected and found digit at the check digit's position",
        arguments: [
            ("96385075", 4, 5, 7),
            ("036000291453", 2, 3, 11),
            ("4006381333932", 1, 2, 12),
            ("09506000134353", 2, 3, 13),
        ]
    )
    func badCheckDigit(text: String, expected: Int, found: Int, position: Int) {
        expectFailure(.badCheckDigit, at: position, mentioning: ["expected \(expected)", "found \(found)"]) {
            () throws(IdentityError) in _ = try GTIN(text)
        }
    }

    @Test(
        "lengths other than 8, 12, 13 and 14 digits are refused",
        arguments: [
            "", "9638507", "963850745", "0036000291", "40063813339", "095060001343520",
        ]
    )
    func wrongLength(text: String) {
        expectFailure(.wrongLength, mentioning: ["\(text.count) digits", "8, 12, 13 or 14"]) {
            () throws(IdentityError) in _ = try GTIN(text)
        }
    }

    @Test(
        "a non-digit is reported at its position, before any length or check digit problem",
        arguments: [
            ("40063813X3931", 8, "'X'"),
            ("0950600013435 ", 13, "U+0020 (space)"),
            ("١٢٣٤٥٦٧٨", 0, "U+0661"),
            ("-4006381333931", 0, "'-'"),
        ]
    )
    func nonDigit(text: String, position: Int, shown: String) {
        expectFailure(.nonDigit, at: position, mentioning: [shown]) { () throws(IdentityError) in _ = try GTIN(text) }
    }

    @Test("a company prefix covers a GTIN from the digit after the indicator")
    func companyPrefixMatches() throws {
        let gtin = try GTIN(Known.gtin14)
        #expect(gtin.companyPrefix(matches: "9506000"))
        #expect(gtin.companyPrefix(matches: "950600"))
        #expect(gtin.companyPrefix(matches: "950600013435"))
        #expect(!gtin.companyPrefix(matches: "9506001"))
        #expect(!gtin.companyPrefix(matches: "0950600"))
        // The indicator digit (here 1, a case) does not matter.
        #expect(try GTIN("19506000134359").companyPrefix(matches: "9506000"))
    }

    @Test("company prefixes work for padded GTIN-12 and GTIN-13, and malformed prefixes never match")
    func companyPrefixPaddedAndMalformed() throws {
        #expect(try GTIN(Known.ean13).companyPrefix(matches: "4006381"))
        #expect(try GTIN(Known.upcA).companyPrefix(matches: "0036000"))
        let gtin = try GTIN(Known.gtin14)
        #expect(!gtin.companyPrefix(matches: "95060"))  // 5 digits: too short for a company prefix
        #expect(!gtin.companyPrefix(matches: "9506000134352"))  // 13 digits: too long
        #expect(!gtin.companyPrefix(matches: "95060a"))
        #expect(!gtin.companyPrefix(matches: ""))
        #expect(!gtin.companyPrefix(matches: "\u{FF19}\u{FF15}\u{FF10}\u{FF16}\u{FF10}\u{FF10}"))  // full-width digits
        #expect(!gtin.companyPrefix(matches: "950600013436"))  // differs in its last digit only
    }
}
