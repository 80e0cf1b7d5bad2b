import Testing

@testable import RetraceIdentity

/// The parser keeps recent outcomes; every answer must be the one a fresh parse gives, whatever
/// was parsed before it.
@Suite("recent parses")
struct RecentParsesTests {
    static func outcome(_ body: () throws(IdentityError) -> ProductScan) -> String {
        do { return "\(try body())" } catch { return "refused: \(error.code) \(error)" }
    }

    static let inputs = [
        "https://id.gs1.org/01/09506000134352/21/ABC123",
        "https://id.gs1.org/01/09506000134352/21/ABC123\n",
        "(01)09506000134352(21)ABC123",
        "https://id.gs1.org/01/09506000134352/21/caf\u{E9}",
        "https://id.gs1.org/01/09506000134352/21/cafe\u{301}",
        "https://id.gs1.org/01/09506000134353/21/ABC123",
        "",
        "urn:epc:id:sgtin:9506000.013435.ABC123",
        "0109506000134352" + "17991231" + "21ABC",
    ]

    @Test("each answer, a refusal included, is a fresh parse's, asked twice and in either order")
    func sameAsFresh() throws {
        for input in Self.inputs + Self.inputs.reversed() {
            for year in [2026, 2080] {
                let fresh = Self.outcome { () throws(IdentityError) in
                    try IdentityParser.parseAfresh(input, referenceYear: year)
                }
                for _ in 0..<2 {
                    let kept = Self.outcome { () throws(IdentityError) in
                        try IdentityParser.parse(input, referenceYear: year)
                    }
                    #expect(kept == fresh, "\(input.debugDescription) in \(year)")
                }
            }
        }
    }

    @Test("the reference year is part of the key: a YYMMDD date expands differently")
    func referenceYear() throws {
        let input = "0109506000134352" + "17991231" + "21ABC"
        let early = try IdentityParser.parse(input, referenceYear: 2026)
        let late = try IdentityParser.parse(input, referenceYear: 2080)
        #expect(early != late)
        #expect(early == (try IdentityParser.parseAfresh(input, referenceYear: 2026)))
        #expect(late == (try IdentityParser.parseAfresh(input, referenceYear: 2080)))
    }

    @Test("canonically equivalent inputs with different bytes are kept apart")
    func exactBytes() {
        let composed = "https://id.gs1.org/01/09506000134352/21/caf\u{E9}"
        let decomposed = "https://id.gs1.org/01/09506000134352/21/cafe\u{301}"
        #expect(composed == decomposed)  // Swift's String equality; the parser's key is the bytes
        for input in [composed, decomposed] {
            let fresh = Self.outcome { () throws(IdentityError) in
                try IdentityParser.parseAfresh(input, referenceYear: 2026)
            }
            #expect(
                Self.outcome { () throws(IdentityError) in try IdentityParser.parse(input, referenceYear: 2026) }
                    == fresh
            )
        }
    }
}
