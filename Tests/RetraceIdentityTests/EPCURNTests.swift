import RetraceIdentity
import Testing

@Suite("EPC pure-identity URNs (urn:epc:id:sgtin)")
struct EPCURNTests {
    @Test("the Tag Data Standard example converts to GTIN 80614141123458")
    func tdsExample() throws {
        let result = try scan("urn:epc:id:sgtin:0614141.812345.6789")
        #expect(result.sgtin.gtin.digits == Known.tdsGTIN)
        #expect(result.sgtin.serial.value == "6789")
        #expect(result.form == .epcURN)
    }

    @Test(
        "escaped serial characters are decoded",
        arguments: [
            ("urn:epc:id:sgtin:0614141.712345.32a%2Fb", "70614141123451", "32a/b"),
            ("urn:epc:id:sgtin:9506000.013435.%22%25%26%2F%3C%3E%3F", Known.gtin14, "\"%&/<>?"),
            ("urn:epc:id:sgtin:9506000.013435.1.2.3", Known.gtin14, "1.2.3"),
            ("urn:epc:id:sgtin:9506000.013435.!'()*+,-.:;=_", Known.gtin14, "!'()*+,-.:;=_"),
            ("URN:EPC:ID:SGTIN:9506000.013435.abc", Known.gtin14, "abc"),
        ]
    )
    func decoding(urn: String, gtin: String, serial: String) throws {
        let result = try scan(urn)
        #expect(result.sgtin.gtin.digits == gtin)
        #expect(result.sgtin.serial.value == serial)
    }

    @Test("SGTIN to EPC URN splits the GTIN by company prefix length and drops the check digit")
    func toURN() throws {
        let tds = try SGTIN(gtin: GTIN(Known.tdsGTIN), serial: Serial("6789"))
        #expect(try tds.epcURN(companyPrefixLength: 7) == "urn:epc:id:sgtin:0614141.812345.6789")
        let upc = try SGTIN(gtin: GTIN(Known.upcA), serial: Serial("X"))
        #expect(try upc.epcURN(companyPrefixLength: 7) == "urn:epc:id:sgtin:0036000.029145.X")
    }

    @Test("exactly the seven TDS characters are escaped when writing")
    func escapingOnWrite() throws {
        let sgtin = try SGTIN(gtin: GTIN(Known.gtin14), serial: Serial("A\"%&/<>?B!'()*+,-.:"))
        #expect(
            try sgtin.epcURN(companyPrefixLength: 7)
                == "urn:epc:id:sgtin:9506000.013435.A%22%25%26%2F%3C%3E%3FB!'()*+,-.:"
        )
    }

    @Test("GTIN → URN → GTIN round-trips for every company prefix length", arguments: Array(6...12))
    func roundTrip(length: Int) throws {
        let sgtin = try SGTIN(gtin: GTIN("19506000134359"), serial: Serial("a/b%c&d"))
        let urn = try sgtin.epcURN(companyPrefixLength: length)
        #expect(try scan(urn).sgtin == sgtin)
    }

    @Test("company prefix lengths outside 6...12 are refused when writing", arguments: [0, 5, 13])
    func badPrefixLength(length: Int) throws {
        let sgtin = try SGTIN(gtin: GTIN(Known.gtin14), serial: Serial("1"))
        expectFailure(.invalidCompanyPrefix) { () throws(IdentityError) in
            _ = try sgtin.epcURN(companyPrefixLength: length)
        }
    }

    @Test("a company prefix outside 6 to 12 digits is refused when reading")
    func badPrefixOnRead() {
        expectRefused("urn:epc:id:sgtin:06141.81234567.1", .invalidCompanyPrefix, at: 17, mentioning: ["5 digits"])
        expectRefused("urn:epc:id:sgtin:0614141234567..1", .invalidCompanyPrefix, at: 17)
    }

    @Test("indicator + item reference must complete 13 digits")
    func itemReferenceLength() {
        expectRefused("urn:epc:id:sgtin:0614141.81234.6789", .wrongLength, at: 25, mentioning: ["must have 6"])
        expectRefused("urn:epc:id:sgtin:0614141..6789", .wrongLength, at: 25)
    }

    @Test("non-digits in the numeric fields are reported at their position")
    func nonDigits() {
        expectRefused("urn:epc:id:sgtin:06141A1.812345.6789", .nonDigit, at: 22)
        expectRefused("urn:epc:id:sgtin:0614141.8123X5.6789", .nonDigit, at: 29)
    }

    @Test(
        "characters that must be escaped are refused raw, with the escape to use",
        arguments: [
            ("a/b", 33, "%2F"), ("a\"b", 33, "%22"), ("a&b", 33, "%26"), ("a?b", 33, "%3F"),
        ]
    )
    func rawCharacterNeedsEscape(serial: String, position: Int, escape: String) {
        expectRefused(
            "urn:epc:id:sgtin:0614141.812345." + serial,
            .illegalCharacter,
            at: position,
            mentioning: [escape]
        )
    }

    @Test("characters outside character set 82 are refused raw and escaped")
    func outsideCharacterSet() {
        expectRefused("urn:epc:id:sgtin:0614141.812345.a b", .illegalCharacter, at: 33)
        expectRefused("urn:epc:id:sgtin:0614141.812345.a%20b", .illegalCharacter, at: 33)
        expectRefused("urn:epc:id:sgtin:0614141.812345.a#b", .illegalCharacter, at: 33)
    }

    @Test("bad escapes, empty and overlong serials")
    func serialProblems() {
        expectRefused("urn:epc:id:sgtin:0614141.812345.a%G1", .badPercentEncoding, at: 33)
        expectRefused("urn:epc:id:sgtin:0614141.812345.", .emptySerial, at: 32)
        expectRefused("urn:epc:id:sgtin:0614141.812345." + String(repeating: "1", count: 21), .serialTooLong, at: 52)
    }

    @Test("other EPC schemes and malformed SGTIN URNs are refused")
    func otherSchemes() {
        expectRefused("urn:epc:id:sscc:0614141.1234567890", .malformedURN, at: 0, mentioning: ["urn:epc:id:sscc"])
        expectRefused("urn:epc:tag:sgtin-96:1.0614141.812345.6789", .malformedURN)
        expectRefused("urn:epc:id:sgtin:0614141812345", .malformedURN, at: 17)
        expectRefused("urn:epc:id:sgtin:0614141.812345", .malformedURN)
    }
}
