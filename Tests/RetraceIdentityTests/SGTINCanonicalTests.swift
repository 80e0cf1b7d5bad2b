import RetraceIdentity
import Testing

/// The byte-level reader of canonical Digital Links must agree with the general parser: whatever it
/// accepts, the general parser reads as the same item and spells back identically; whatever the
/// general parser accepts in canonical form without escapes, it accepts too.
@Suite struct SGTINCanonicalTests {
    static let gtins = ["09506000134352", "09506000134353", "00614141123452", "0950600013435", "095060001343520"]
    static let prefixes = [
        "https://id.gs1.org/01/", "http://id.gs1.org/01/", "https://id.gs1.org/01//", "HTTPS://id.gs1.org/01/",
        "https://example.com/01/",
    ]
    static let separators = ["/21/", "/10/", "/21", "/21//"]
    static let pool = Array("AZaz09-._~%2F!\"&'()*+,/:;<=>? é#")
    static let plain = Array("AZaz09-._")

    @Test func agreesWithTheGeneralParser() throws {
        var generator = SystemRandomNumberGenerator()
        var fastAccepted = 0
        for round in 0..<20_000 {
            let gtin = round % 3 == 0 ? Self.gtins.randomElement(using: &generator)! : Self.gtins[0]
            let prefix = round % 5 == 0 ? Self.prefixes.randomElement(using: &generator)! : Self.prefixes[0]
            let separator = round % 7 == 0 ? Self.separators.randomElement(using: &generator)! : Self.separators[0]
            let length = Int.random(in: 0...22, using: &generator)
            let characters = round % 2 == 0 ? Self.plain : Self.pool
            let serial = String((0..<length).map { _ in characters.randomElement(using: &generator)! })
            let text = prefix + gtin + separator + serial
            let fast = SGTIN(canonicalDigitalLink: text)
            let general = try? IdentityParser.parse(text).sgtin
            if let fast {
                fastAccepted += 1
                #expect(general == fast, "\(text)")
                #expect(fast.digitalLink == text, "\(text)")
                // The reader keeps the text as the item's link: it must be the spelling the parts make.
                #expect(SGTIN(gtin: fast.gtin, serial: fast.serial).digitalLink == text, "\(text)")
            } else if let general, general.digitalLink == text {
                // Only serials that need an escape are left to the general parser.
                #expect(text.contains("%"), "\(text) is canonical but was not read by the byte-level reader")
            }
        }
        #expect(fastAccepted > 2_000)
    }

    @Test func knownAnswers() throws {
        let product = try #require(SGTIN(canonicalDigitalLink: "https://id.gs1.org/01/09506000134352/21/SN-0001"))
        #expect(product.gtin.digits == "09506000134352")
        #expect(product.serial.value == "SN-0001")
        #expect(SGTIN(canonicalDigitalLink: "https://id.gs1.org/01/09506000134353/21/SN-0001") == nil)  // check digit
        #expect(SGTIN(canonicalDigitalLink: "https://id.gs1.org/01/09506000134352/21/") == nil)
        #expect(SGTIN(canonicalDigitalLink: "https://id.gs1.org/01/09506000134352/21/ABC%2F1") == nil)
        #expect(SGTIN(canonicalDigitalLink: "https://id.gs1.org/01/09506000134352/21/123456789012345678901") == nil)
        #expect(SGTIN(canonicalDigitalLink: "https://id.gs1.org/01/09506000134352/21/12345678901234567890") != nil)
    }
}
