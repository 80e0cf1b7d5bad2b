import RetraceIdentity
import Testing

@Suite("Form detection, scanner framing and round trips")
struct IdentityParserTests {
    /// GTIN 09506000134352, serial ABC123: the item every form below describes.
    static func item() throws -> SGTIN {
        try SGTIN(gtin: GTIN(Known.gtin14), serial: Serial("ABC123"))
    }

    @Test(
        "every form of the same item yields the same SGTIN and names its form",
        arguments: [
            ("]d2010950600013435221ABC123", ProductScan.Form.elementString),
            ("010950600013435221ABC123", .elementString),
            ("(01)09506000134352(21)ABC123", .humanReadable),
            ("https://id.gs1.org/01/09506000134352/21/ABC123", .digitalLink),
            ("https://brand.example/p/01/9506000134352/21/ABC123?17=270101", .digitalLink),
            ("urn:epc:id:sgtin:9506000.013435.ABC123", .epcURN),
        ]
    )
    func sameItemEveryForm(text: String, form: ProductScan.Form) throws {
        let result = try scan(text)
        #expect(try result.sgtin == Self.item())
        #expect(result.form == form)
    }

    @Test("the SGTIN writes its canonical, human-readable and element string forms, all parsing back")
    func writtenForms() throws {
        let sgtin = try Self.item()
        #expect(sgtin.digitalLink == "https://id.gs1.org/01/09506000134352/21/ABC123")
        #expect(sgtin.description == sgtin.digitalLink)
        #expect(sgtin.humanReadable == "(01)09506000134352(21)ABC123")
        #expect(sgtin.elementString == "010950600013435221ABC123")
        let urn = try sgtin.epcURN(companyPrefixLength: 7)
        for text in [sgtin.digitalLink, sgtin.humanReadable, sgtin.elementString, urn] {
            #expect(try scan(text).sgtin == sgtin)
        }
    }

    @Test(
        "serials using all of character set 82 round-trip through every form",
        arguments: [
            "!\"%&'()*+,-./0123456", "789:;<=>?ABCDEFGHIJK", "LMNOPQRSTUVWXYZ_abcd", "efghijklmnopqrstuvwx",
            "yz", "%25", "a/b/c", "100%", "A&B=C", "\"quoted\"",
        ]
    )
    func roundTripAllCharacters(serial: String) throws {
        let sgtin = try SGTIN(gtin: GTIN(Known.ean13), serial: Serial(serial))
        #expect(try scan(sgtin.digitalLink).sgtin == sgtin)
        #expect(try scan(sgtin.epcURN(companyPrefixLength: 7)).sgtin == sgtin)
        #expect(try scan(sgtin.elementString).sgtin == sgtin)
        #expect(try scan(sgtin.humanReadable).sgtin == sgtin)
    }

    @Test("whitespace that scanners add around the data is trimmed; positions still count from the raw input")
    func trimming() throws {
        #expect(try scan("  https://id.gs1.org/01/09506000134352/21/ABC123\r\n").sgtin == Self.item())
        #expect(try scan("\t]d2010950600013435221ABC123\n").sgtin == Self.item())
        expectRefused("\n0109506000134353" + "21X", .badCheckDigit, at: 16)
    }

    @Test("empty and whitespace-only input is refused", arguments: ["", "   ", "\r\n", "\t \n"])
    func empty(text: String) {
        expectRefused(text, .emptyInput)
    }

    @Test("a symbology identifier with nothing after it is empty input")
    func symbologyOnly() {
        expectRefused("]d2", .emptyInput, at: 3)
        expectRefused("]d2\n", .emptyInput, at: 3)
    }

    @Test(
        "unknown or truncated symbology identifiers are refused at position 0",
        arguments: [
            "]X90109506000134352", "]d90109506000134352", "]D2010950600013435221A", "]Q", "]",
        ]
    )
    func unknownSymbology(text: String) {
        expectRefused(text, .unknownSymbology, at: 0)
    }

    @Test("plain QR / Data Matrix identifiers carry a Digital Link, not element strings")
    func plainSymbologies() throws {
        let result = try scan("]Q1https://id.gs1.org/01/09506000134352/21/ABC123")
        #expect(try result.sgtin == Self.item())
        #expect(result.symbologyIdentifier == "]Q1")
        expectRefused("]d1010950600013435221ABC123", .unknownSymbology, at: 0, mentioning: ["]d2"])
    }

    @Test(
        "text in no supported form is unrecognised",
        arguments: [
            "hello", "ftp://id.gs1.org/01/09506000134352/21/A", "#0109506000134352", "gtin:09506000134352",
        ]
    )
    func unrecognized(text: String) {
        expectRefused(text, .unrecognizedFormat, at: 0)
    }

    @Test("errors compare by code only and describe themselves by their reason")
    func errorEquality() {
        let first = IdentityError(.badCheckDigit, "one reason", position: 3)
        let second = IdentityError(.badCheckDigit, "another reason")
        #expect(first == second)
        #expect(first.hashValue == second.hashValue)
        #expect(first != IdentityError(.wrongLength, "one reason", position: 3))
        #expect(first.description == "one reason")
        #expect(IdentityError.Code.badCheckDigit.description == "badCheckDigit")
    }

    @Test("the parser throws IdentityError for any bad scan")
    func errorType() {
        #expect(throws: IdentityError.self) { try IdentityParser.parse("(01)09506000134353(21)A") }
        #expect(throws: IdentityError(.missingSerial, "")) {
            try IdentityParser.parse("(01)09506000134352", referenceYear: 2025)
        }
    }

    @Test("dates are expanded around the reference year")
    func referenceYearMatters() throws {
        let text = "(01)09506000134352(21)A(17)760101"
        #expect(try IdentityParser.parse(text, referenceYear: 2025).expiry?.year == 1976)
        #expect(try IdentityParser.parse(text, referenceYear: 2030).expiry?.year == 2076)
    }
}
