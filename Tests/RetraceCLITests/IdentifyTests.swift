import Foundation
import Testing

@Suite("identify")
struct IdentifyTests {
    static let valid: [(String, String, String?)] = [
        ("]d2" + "0109506000134352" + "21ABC123" + "\u{1D}" + "17250101", "ABC123", "2025-01-01"),
        ("(01)09506000134352(21)ABC123", "ABC123", nil),
        ("https://example.com/01/09506000134352/21/ABC%2F1?17=260131", "ABC/1", "2026-01-31"),
        ("urn:epc:id:sgtin:9506000.013435.ABC123", "ABC123", nil),
        ("0109506000134352" + "10LOT7" + "<GS>" + "21XYZ", "XYZ", nil),
    ]

    @Test("every identity form prints the canonical Digital Link, GTIN, serial and expiry", arguments: 0..<5)
    func validForms(_ index: Int) throws {
        let work = try Workspace()
        defer { work.remove() }
        let (scan, serial, expiry) = Self.valid[index]
        let result = try work.run(["identify", scan, "--json"])
        #expect(result.code == 0, "\(result.stderr)")
        let json = try #require(result.json)
        #expect(json.string("gtin") == "09506000134352")
        #expect(json.string("serial") == serial)
        #expect(json.string("digitalLink")?.hasPrefix("https://id.gs1.org/01/09506000134352/21/") == true)
        if let expiry { #expect(json.string("expiry") == expiry) }
        #expect(json.string("form") != nil)
        let text = try work.run(["identify", scan])
        #expect(text.code == 0)
        #expect(text.stdout.contains("digital link"))
        #expect(text.stdout.contains(serial))
    }

    @Test(
        "a bad barcode gives exit 2 and one line naming what is wrong",
        arguments: [
            ("(01)09506000134353(21)A", "check digit"),
            ("(01)09506000134352(21)ABCDEFGHIJKLMNOPQRSTU", "20"),
            ("(01)09506000134352", "serial"),
            ("hello", "position"),
        ]
    )
    func badBarcodes(_ scan: String, _ mentions: String) throws {
        let work = try Workspace()
        defer { work.remove() }
        let result = try work.run(["identify", scan])
        #expect(result.code == 2)
        #expect(result.isOneLineError, "\(result.stderr)")
        #expect(result.stderr.contains(mentions), "\(result.stderr)")
    }
}
