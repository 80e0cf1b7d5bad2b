import CanonicalJSON
import Foundation
import Testing

/// Issue 12's rough edges a new operator meets: a first roster from flags, a key folder made by
/// keygen, batch statements from `record`, and checks that say what they did not check.
@Suite("A new operator's first ledger")
struct NewOperatorTests {
    @Test("keygen --out, roster new and init start a ledger; record builds one batch statement from many products")
    func firstLedger() throws {
        let work = try Workspace()
        defer { work.remove() }
        for name in ["gov", "log", "acme", "acme-recycling"] {
            #expect(try work.run(["keygen", name, "--out", "mine/\(name)"]).code == 0)
        }
        let roster = try work.run([
            "roster", "new", "--governance-key", "mine/gov/gov.pub", "--out", "roster.json",
            "--valid-from", "2026-01-01T00:00:00Z",
            "--party",
            "id=acme,name=Acme Devices,roles=brand-owner,key=mine/acme/acme.pub,prefixes=9506000,gln=9506000000015",
            "--party",
            "id=acme-recycling,name=Acme Recycling,roles=recycler,key=mine/acme-recycling/acme-recycling.pub,"
                + "accreditation=WEEE-AATF|WEE/AA0002AA/ATF|2026-01-01T00:00:00Z|2030-01-01T00:00:00Z",
        ])
        #expect(roster.code == 0, "\(roster.stderr)")
        // A roster the spec refuses is never written: a recycler listing company prefixes.
        let invalid = try work.run([
            "roster", "new", "--governance-key", "mine/gov/gov.pub", "--out", "bad.json",
            "--party", "id=acme,name=Acme,roles=recycler,key=mine/acme/acme.pub,prefixes=9506000",
        ])
        #expect(invalid.code == 2 && invalid.isOneLineError)
        #expect(invalid.stderr.contains("prefix"), "\(invalid.stderr)")
        #expect(work.bytes("bad.json") == nil)
        let made = try work.run([
            "init", "--db", "l.sqlite", "--origin", "example.com/acme", "--log-key", "mine/log/log.key",
            "--governance-key", "mine/gov/gov.key", "--roster", "roster.json", "--time", "2026-01-01T00:00:00Z",
        ])
        #expect(made.code == 0, "\(made.stderr)")

        let products = (1...5).map { "(01)09506000134352(21)B\($0)" }
        for product in products {
            let commission = try work.run([
                "record", "commission", "--db", "l.sqlite", "--log-key", "mine/log/log.key", "--key",
                "mine/acme/acme.key", "--product", product, "--time", "2026-02-01T00:00:00Z",
            ])
            #expect(commission.code == 0, "\(commission.stderr)")
        }
        try work.write("pallet.txt", Array((products.dropFirst(2).joined(separator: "\n") + "\n# end\n").utf8))
        // A product given twice is refused, not silently merged.
        let twice = try work.run([
            "record", "recycle", "--db", "l.sqlite", "--log-key", "mine/log/log.key", "--key",
            "mine/acme-recycling/acme-recycling.key", "--product", products[0], "--products", "pallet.txt",
            "--product", products[0],
        ])
        #expect(twice.code == 2 && twice.stderr.contains("given twice"), "\(twice.stderr)")
        // Several products for a type that cannot be batched are refused, not reduced to one.
        let sell = try work.run([
            "record", "sell", "--db", "l.sqlite", "--log-key", "mine/log/log.key", "--key", "mine/acme/acme.key",
            "--product", products[0], "--product", products[1], "--detail",
            "orderDigest=\(String(repeating: "a", count: 64))",
        ])
        #expect(sell.code == 2 && sell.stderr.contains("not a batch type"), "\(sell.stderr)")
        let recycle = try work.run([
            "record", "recycle", "--db", "l.sqlite", "--log-key", "mine/log/log.key", "--key",
            "mine/acme-recycling/acme-recycling.key", "--product", products[0], "--product", products[1],
            "--products", "pallet.txt", "--time", "2026-03-01T00:00:00Z", "--detail", "certificate=ACME-1",
            "--detail", "method=manual-disassembly", "--detail", "materials={\"glass\":100}", "--json",
        ])
        #expect(recycle.code == 0, "\(recycle.stderr)")
        #expect(recycle.json?["appended"]?.arrayValue?.count == 1)
        let proofs = try work.run([
            "verify-recycling", "ACME-1", "--db", "l.sqlite", "--governance-key", "mine/gov/gov.pub", "--log-key",
            "mine/log/log.pub", "--json",
        ])
        #expect(proofs.json?["proofs"]?.arrayValue?.count == 5, "\(proofs.stdout) \(proofs.stderr)")
        #expect(proofs.code == 0)
        // The certificate bundle, then the claim checked from the file alone.
        #expect(try work.run(["bundle", "ACME-1", "--db", "l.sqlite", "--out", "cert.json"]).code == 0)
        let offline = try work.run([
            "verify-recycling", "ACME-1", "--bundle", "cert.json", "--governance-key", "mine/gov/gov.pub",
            "--log-key", "mine/log/log.pub", "--json",
        ])
        #expect(offline.code == 0, "\(offline.stderr)")
        #expect(offline.json?["proofs"]?.arrayValue?.count == 5)
        // verify-bundle with the working directory's default keys (the test parties') names them and the bundle's signer.
        let foreign = try work.run(["verify-bundle", "cert.json"])
        #expect(foreign.code == 1)
        #expect(
            foreign.stderr.contains("default trust roots") && foreign.stderr.contains("signed by log"),
            "\(foreign.stderr)"
        )
    }

    @Test("scan without --dock says the channel was not checked")
    func scanWithoutDock() throws {
        let work = try Workspace()
        defer { work.remove() }
        let demo = try VerificationCLITests.demo(work)
        let genuine = try #require(
            VerificationCLITests.scans(demo).first { $0["expected"]?.stringValue == "genuine-returnable" }
        )
        let scan = try #require(genuine["scan"]?.stringValue)
        let time = try #require(genuine["time"]?.stringValue)
        var arguments = ["scan", scan, "--db", "retrace-demo.sqlite", "--json", "--time", time]
        if let rma = genuine["rma"]?.stringValue { arguments += ["--rma", rma] }
        if let order = genuine["order"]?.stringValue { arguments += ["--order", order] }
        let result = try work.run(arguments)
        #expect(result.json?["verdict"]?.stringValue == "genuine-returnable", "\(result.stdout)")
        let reasons = result.json?["reasons"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(reasons.contains { $0.contains("channel was not checked") }, "\(result.stdout) \(result.stderr)")
    }
}
