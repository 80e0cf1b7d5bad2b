import RetraceIdentity
import Testing

@Suite("GS1 Digital Link URIs")
struct DigitalLinkTests {
    /// 36 characters: the serial of `base + "/21/…"` starts at position 40, a query key at `"?"` + 1.
    static let base = "https://id.gs1.org/01/09506000134352"

    @Test("the GS1 resolver form")
    func resolverForm() throws {
        let result = try scan(Self.base + "/21/ABC123")
        #expect(result.sgtin.gtin.digits == Known.gtin14)
        #expect(result.sgtin.serial.value == "ABC123")
        #expect(result.form == .digitalLink)
    }

    @Test("any domain with a path prefix, lot before serial")
    func customDomainWithPrefix() throws {
        let result = try scan("https://example.com/some/prefix/01/09506000134352/10/LOT/21/ABC")
        #expect(result.lot == "LOT")
        #expect(result.sgtin.serial.value == "ABC")
    }

    @Test("a host with a port and the http scheme in capitals")
    func portAndScheme() throws {
        #expect(try scan("https://example.com:8443/01/09506000134352/21/S").sgtin.serial.value == "S")
        #expect(try scan("HTTP://ID.GS1.ORG/01/09506000134352/21/S").sgtin.serial.value == "S")
        #expect(try scan("http://id.gs1.org/01/09506000134352/21/S").sgtin.serial.value == "S")
    }

    @Test("all three key qualifiers in order 22, 10, 21")
    func allQualifiers() throws {
        let result = try scan(Self.base + "/22/V1/10/L1/21/S1")
        #expect(result.consumerProductVariant == "V1")
        #expect(result.lot == "L1")
        #expect(result.sgtin.serial.value == "S1")
    }

    @Test("query attributes are read; non-numeric parameters are ignored")
    func queryAttributes() throws {
        let result = try scan(Self.base + "/21/ABC?17=250101&11=240101&15=250630&linkType=gs1:pip&utm_source=x")
        #expect(result.expiry?.iso8601 == "2025-01-01")
        #expect(result.productionDate?.iso8601 == "2024-01-01")
        #expect(result.bestBefore?.iso8601 == "2025-06-30")
        #expect(result.otherElements.isEmpty)
    }

    @Test(
        "GTIN-8, -12 and -13 in the 01 segment are normalised to 14 digits",
        arguments: [
            (Known.gtin8, "00000096385074"), (Known.upcA, "00036000291452"), (Known.ean13, "04006381333931"),
        ]
    )
    func shortGTINs(text: String, digits: String) throws {
        #expect(try scan("https://id.gs1.org/01/\(text)/21/X").sgtin.gtin.digits == digits)
    }

    @Test("one trailing slash is accepted, and a fragment is ignored")
    func trailingSlashAndFragment() throws {
        #expect(try scan(Self.base + "/21/ABC/").sgtin.serial.value == "ABC")
        #expect(try scan(Self.base + "/21/ABC#details").sgtin.serial.value == "ABC")
    }

    @Test(
        "percent-encoded serials are decoded (any hex case, any character)",
        arguments: [
            ("ABC%2F1", "ABC/1"), ("100%25", "100%"), ("A%26B", "A&B"), ("%22q%22", "\"q\""), ("a%2fb", "a/b"),
            ("%41BC", "ABC"), ("A+B", "A+B"), ("x%3Cy%3E%3F", "x<y>?"),
        ]
    )
    func percentDecoding(encoded: String, serial: String) throws {
        #expect(try scan(Self.base + "/21/" + encoded).sgtin.serial.value == serial)
    }

    @Test(
        "the canonical link escapes exactly what is not unreserved, in upper-case hex, and reads back",
        arguments: [
            ("ABC%2F1", "ABC%2F1"), ("100%25", "100%25"), ("A%26B", "A%26B"), ("%22q%22", "%22q%22"),
            ("a%2fb", "a%2Fb"), ("%41BC", "ABC"), ("A+B", "A%2BB"), ("x%3Cy%3E%3F", "x%3Cy%3E%3F"),
            ("plain-._09", "plain-._09"),
        ]
    )
    func canonicalSpelling(input: String, canonical: String) throws {
        let sgtin = try scan(Self.base + "/21/" + input).sgtin
        #expect(sgtin.digitalLink == Self.base + "/21/" + canonical)
        #expect(try scan(sgtin.digitalLink).sgtin == sgtin)
    }

    @Test("a Digital Link without 21 is missing its serial")
    func missingSerial() {
        expectRefused(Self.base, .missingSerial, mentioning: ["missing serial"])
        expectRefused(Self.base + "/10/LOT?17=250101", .missingSerial)
    }

    @Test("21 with no value is an empty serial, with or without trailing slash")
    func emptySerial() {
        expectRefused(Self.base + "/21", .emptySerial, at: 37)
        expectRefused(Self.base + "/21/", .emptySerial, at: 37)
    }

    @Test("qualifiers out of order or repeated are misplaced")
    func qualifierOrder() {
        expectRefused(Self.base + "/21/S/10/L", .misplacedAI, at: 42, mentioning: ["22, 10, 21"])
        expectRefused(Self.base + "/21/S/21/S", .misplacedAI, at: 42)
        expectRefused(Self.base + "/10/L/22/V/21/S", .misplacedAI, at: 42)
    }

    @Test("a data attribute in the path and a qualifier in the query are misplaced")
    func pathVersusQuery() {
        expectRefused(Self.base + "/17/250101/21/S", .misplacedAI, at: 37, mentioning: ["query string"])
        expectRefused(Self.base + "/21/S?10=L", .misplacedAI, at: 42, mentioning: ["path"])
        expectRefused(Self.base + "/21/S?21=S", .misplacedAI, at: 42)
        expectRefused(Self.base + "/21/S/01/09506000134352", .misplacedAI, at: 42)
    }

    @Test("unknown numeric AIs are refused in the path and in the query")
    func unknownAIs() {
        expectRefused(Self.base + "/99/X/21/S", .unknownAI, at: 37, mentioning: ["(99)"])
        expectRefused(Self.base + "/21/S?99=1", .unknownAI, at: 42, mentioning: ["(99)"])
        expectRefused(Self.base + "/21/S?7003=2501011200", .unknownAI, at: 42, mentioning: ["(7003)"])
    }

    @Test("a non-AI path segment after the identity is trailing garbage")
    func trailingSegment() {
        expectRefused(Self.base + "/21/S/extra", .trailingGarbage, at: 42, mentioning: ["'extra'"])
    }

    @Test(
        "a wrong check digit is reported for GTIN-8, -12, -13 and -14 as written",
        arguments: [
            ("96385075", 29, 4, 5), ("036000291453", 33, 2, 3), ("4006381333932", 34, 1, 2),
            ("09506000134353", 35, 2, 3),
        ]
    )
    func badCheckDigit(gtin: String, position: Int, expected: Int, found: Int) {
        expectRefused(
            "https://id.gs1.org/01/\(gtin)/21/X",
            .badCheckDigit,
            at: position,
            mentioning: ["expected \(expected)", "found \(found)"]
        )
    }

    @Test("GTIN length and non-digits in the 01 segment")
    func gtinShape() {
        expectRefused("https://id.gs1.org/01/09506000134/21/X", .wrongLength, at: 22, mentioning: ["11 digits"])
        expectRefused("https://id.gs1.org/01/0950600013435A/21/X", .nonDigit, at: 35, mentioning: ["'A'"])
    }

    @Test("a path without /01/ has no GTIN; compressed links are not supported")
    func noGTIN() {
        expectRefused("https://example.com/gtin/09506000134352", .missingGTIN)
        expectRefused("https://id.gs1.org/ARHKVAdpQgTyk", .missingGTIN, mentioning: ["compressed"])
        expectRefused("https://id.gs1.org/01", .missingGTIN, at: 19)
    }

    @Test("malformed URIs: empty host, raw characters that need encoding, empty segments")
    func malformed() {
        expectRefused("https:///01/09506000134352/21/S", .malformedURI, at: 8, mentioning: ["host"])
        expectRefused(Self.base + "/21/A\"B", .malformedURI, at: 41, mentioning: ["%22"])
        expectRefused(Self.base + "/21/A B", .malformedURI, at: 41, mentioning: ["%20"])
        expectRefused("https://id.gs1.org/01//21/S", .malformedURI, at: 22)
        expectRefused("https://exa mple.com/01/09506000134352/21/S", .malformedURI, at: 11)
    }

    @Test("bad percent-encoding is reported at the '%'")
    func badPercentEncoding() {
        expectRefused(Self.base + "/21/AB%2", .badPercentEncoding, at: 42)
        expectRefused(Self.base + "/21/%ZZ", .badPercentEncoding, at: 40, mentioning: ["'ZZ'"])
        expectRefused(Self.base + "/21/A%FF", .badPercentEncoding, at: 41, mentioning: ["UTF-8"])
        expectRefused(Self.base + "/21/S?17=25%G10101", .badPercentEncoding, at: 47)
    }

    @Test(
        "a decoded character outside character set 82 is illegal at the position of its escape",
        arguments: [
            ("AB%20C", 42, "U+0020 (space)"), ("caf%C3%A9", 43, "U+00E9"), ("%7E", 40, "'~'"),
        ]
    )
    func decodedIllegal(encoded: String, position: Int, shown: String) {
        expectRefused(Self.base + "/21/" + encoded, .illegalCharacter, at: position, mentioning: [shown])
    }

    @Test("a serial over 20 characters is too long")
    func serialTooLong() {
        expectRefused(
            Self.base + "/21/" + String(repeating: "9", count: 25),
            .serialTooLong,
            at: 60,
            mentioning: ["25 characters"]
        )
    }

    @Test("query attribute values are validated")
    func queryValidation() {
        expectRefused(Self.base + "/21/S?17=251301", .invalidDate, at: 47)
        expectRefused(Self.base + "/21/S?17=250101&17=250102", .duplicateAI, at: 52)
        expectRefused(Self.base + "/21/S?17=", .emptyValue, at: 42)
        expectRefused(Self.base + "/21/S?17", .emptyValue, at: 42)
        expectRefused(Self.base + "/21/S?17=2501", .truncatedField)
    }

    @Test(
        "the canonical form encodes every non-unreserved serial character and parses back",
        arguments: [
            ("ABC/1", "ABC%2F1"), ("100%", "100%25"), ("A&B", "A%26B"), ("\"q\"", "%22q%22"), ("a-b.c_d", "a-b.c_d"),
            ("!'()*+,:;=", "%21%27%28%29%2A%2B%2C%3A%3B%3D"), ("<>?", "%3C%3E%3F"), ("Az09", "Az09"),
        ]
    )
    func canonicalRoundTrip(serial: String, encoded: String) throws {
        let sgtin = try SGTIN(gtin: GTIN(Known.gtin14), serial: Serial(serial))
        #expect(sgtin.digitalLink == "https://id.gs1.org/01/09506000134352/21/" + encoded)
        #expect(try scan(sgtin.digitalLink).sgtin == sgtin)
    }
}
