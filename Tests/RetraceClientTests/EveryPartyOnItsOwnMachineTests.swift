import CanonicalJSON
import Foundation
import RetraceKit
import RetraceSimulation
import Testing

/// Issue 12's "must show": `retrace serve` over HTTPS and every party as its own process with its own
/// key folder over loopback. None of them has the ledger file or the log's private key; each checks
/// what the server answers under the two public keys it holds.
@Suite("Every party on its own machine", .serialized)
struct EveryPartyOnItsOwnMachineTests {
    static let phone = "https://id.gs1.org/01/09506000134352/21/"

    @Test("brand, retailer, dock, refurbisher, recycler and auditor work against retrace serve over HTTPS")
    func fullStory() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("retrace-parties-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let served = try ServedLedger(root: root)
        defer { served.stop() }
        let url = served.address
        let brand = try Party.make("northwind", signs: true, root: root, server: url, ca: served.ca)
        let retailer = try Party.make("fabrikam", signs: true, root: root, server: url, ca: served.ca)
        let dock = try Party.make("litware", signs: true, root: root, server: url, ca: served.ca)
        let refurbisher = try Party.make("proseware", signs: true, root: root, server: url, ca: served.ca)
        let recycler = try Party.make("adatum", signs: true, root: root, server: url, ca: served.ca)
        let auditor = try Party.make("auditor", signs: false, root: root, server: url, ca: served.ca)
        for party in [brand, retailer, dock, refurbisher, recycler, auditor] {
            let files = try FileManager.default.contentsOfDirectory(atPath: party.folder.path)
            #expect(!files.contains { $0.hasSuffix(".sqlite") || $0 == "log.key" }, "\(party.name) holds \(files)")
        }

        // Without the CA the client refuses the server's certificate: TLS is verified.
        let untrusted = try await Party.execute(
            ["checkpoint", "--server", url, "--log-key", "log.pub"],
            in: auditor.folder
        )
        #expect(untrusted.code == 2)
        #expect(untrusted.stderr.contains("TLS") || untrusted.stderr.contains("certificate"), "\(untrusted.stderr)")

        // The auditor's first audit: the whole demo ledger over HTTP into its mirror.
        let firstAudit = try await auditor.run(["audit", "--mirror", "mirror.sqlite", "--json"])
        #expect(firstAudit.code == 0, "\(firstAudit.stderr)")
        #expect(firstAudit.json?["passed"] == .bool(true))
        let firstSize = firstAudit.json?["treeSize"]?.integerValue ?? 0
        #expect(firstSize > 200)
        #expect(firstAudit.json?["from"]?.integerValue == 0)

        // The brand commissions and ships; the retailer receives and sells.
        let product = Self.phone + "CLIENT-1"
        let commissioned = try await brand.run(
            [
                "record", "commission", "--key", "northwind.key", "--product", product, "--detail", "massGrams=180",
                "--json",
            ])
        #expect(commissioned.code == 0, "\(commissioned.stderr)")
        #expect(commissioned.json?["verified"] == .bool(true))
        let again = try await brand.run(["record", "commission", "--key", "northwind.key", "--product", product])
        #expect(again.code == 1)
        #expect(again.stderr.contains("rule-violation") && again.stderr.contains("L2"), "\(again.stderr)")
        try await expectOK(
            brand.run([
                "record", "ship", "--key", "northwind.key", "--product", product, "--detail", "consignee=fabrikam",
            ])
        )
        try await expectOK(retailer.run(["record", "receive", "--key", "fabrikam.key", "--product", product]))
        let order = String(repeating: "ab", count: 32)
        try await expectOK(
            retailer.run([
                "record", "sell", "--key", "fabrikam.key", "--product", product, "--detail", "orderDigest=\(order)",
            ])
        )
        let history = try await retailer.run(["history", product, "--json"])
        #expect(history.code == 0, "\(history.stderr)")
        #expect(history.json?["events"]?.arrayValue?.count == 4)
        #expect(history.json?["productClass"]?["name"] == .string("Northwind Phone X"), "the demo's class")

        // The brand corrects its GTIN's class: the head comes from the class bundle, verified here.
        let described = try await brand.run(
            [
                "record", "product-class", "--gtin", "09506000134352", "--key", "northwind.key", "--detail",
                "name=Phone X", "--detail", "model=NX-26", "--json",
            ])
        #expect(described.code == 0, "\(described.stderr)")
        let classed = try await retailer.run(["history", product, "--json"])
        #expect(classed.json?["productClass"]?["name"] == .string("Phone X"))
        #expect(classed.json?["productClass"]?["model"] == .string("NX-26"))
        let foreign = try await retailer.run(
            ["record", "product-class", "--gtin", "09506000134352", "--key", "fabrikam.key", "--detail", "name=X"]
        )
        #expect(foreign.code == 1 && foreign.stderr.contains("L3"), "\(foreign.stderr)")

        // The dock gets every verdict of the demo, each recomputed from the server's evidence.
        let (_, script) = try DemoStory.statements(parties: try TestParties())
        for scan in script.scans {
            var arguments = ["scan", scan.scan, "--dock", scan.dock, "--time", scan.time.description, "--json"]
            if let rma = scan.claimedRMA { arguments += ["--rma", rma] }
            if let order = scan.claimedOrderDigest { arguments += ["--order", order.hex] }
            let verdict = try await dock.run(arguments)
            #expect(
                verdict.json?["verdict"]?.stringValue == scan.expectedVerdict,
                "\(scan.story): \(verdict.stdout) \(verdict.stderr)"
            )
            #expect(verdict.code == (scan.expectedVerdict == "genuine-returnable" ? 0 : 1))
        }

        // The retailer takes it back for credit, the dock receives it, the refurbisher inspects and refurbishes.
        try await expectOK(
            retailer.run([
                "record", "trade-in", "--key", "fabrikam.key", "--product", product, "--detail", "credit=10000",
                "--detail", "currency=EUR", "--detail", "grade=good",
            ])
        )
        try await expectOK(
            dock.run([
                "record", "return-receive", "--key", "litware.key", "--product", product, "--detail", "condition=used",
                "--detail", "scanned=\(product)",
            ])
        )
        try await expectOK(
            refurbisher.run([
                "record", "inspect", "--key", "proseware.key", "--product", product, "--detail", "grade=good",
            ])
        )
        try await expectOK(
            refurbisher.run([
                "record", "refurbish", "--key", "proseware.key", "--product", product, "--detail", "work=[\"battery\"]",
                "--detail", "tests=[\"functional\"]", "--detail", "warrantyMonths=12", "--detail", "certified=false",
            ])
        )

        // 300 serials: commissioned (pre-signed, one append), recalled and recycled as one batch statement each.
        let serials = (1...300).map { Self.phone + "LOT-\(String(format: "%04d", $0))" }
        try Self.signCommissions(
            serials,
            key: brand.folder.appendingPathComponent("northwind.key"),
            into: brand.folder.appendingPathComponent("commissions.jsonl")
        )
        try await expectOK(brand.run(["append", "commissions.jsonl"]))
        try Data(serials.joined(separator: "\n").utf8).write(to: brand.folder.appendingPathComponent("lot.txt"))
        try Data(serials.joined(separator: "\n").utf8).write(to: recycler.folder.appendingPathComponent("pallet.txt"))
        let recall = try await brand.run([
            "record", "recall", "--key", "northwind.key", "--products", "lot.txt", "--detail", "notice=NW-RN-1",
            "--detail", "reason=safety", "--detail", "remedy=replace", "--json",
        ])
        #expect(recall.code == 0, "\(recall.stderr)")
        #expect(recall.json?["appended"]?.arrayValue?.count == 1)
        let recalled = try await dock.run(["scan", serials[150], "--dock", "litware", "--json"])
        #expect(recalled.json?["verdict"]?.stringValue == "recalled", "\(recalled.stdout) \(recalled.stderr)")
        let recycle = try await recycler.run([
            "record", "recycle", "--key", "adatum.key", "--products", "pallet.txt", "--detail",
            "certificate=AATF-CLI-300",
            "--detail", "method=mechanical-shredding", "--detail", "materials={\"aluminium\":30000,\"glass\":20000}",
        ])
        #expect(recycle.code == 0, "\(recycle.stderr)")
        let proofs = try await auditor.run(["verify-recycling", "AATF-CLI-300", "--json"])
        #expect(proofs.code == 0, "\(proofs.stderr)")
        #expect(proofs.json?["proofs"]?.arrayValue?.count == 300)
        let certificate = try await recycler.run(["bundle", "AATF-CLI-300", "--out", "certificate.json"])
        #expect(certificate.code == 0, "\(certificate.stderr)")
        let offline = try await Party.execute(
            [
                "verify-recycling", "AATF-CLI-300", "--bundle", "certificate.json", "--governance-key",
                "governance.pub",
                "--log-key", "log.pub", "--json",
            ],
            in: recycler.folder
        )
        #expect(offline.code == 0, "\(offline.stderr)")
        #expect(offline.json?["proofs"]?.arrayValue?.count == 300)
        let endOfLife = try await dock.run(["scan", serials[0], "--dock", "litware", "--json"])
        #expect(endOfLife.json?["verdict"]?.stringValue == "end-of-life")

        // The log, proofs and roster, each checked on the auditor's machine.
        let checkpoint = try await auditor.run(
            ["checkpoint", "--json"],
            trust: false,
            extra: ["--log-key", "log.pub"]
        )
        #expect(checkpoint.code == 0, "\(checkpoint.stderr)")
        let proof = try await auditor.run(
            ["prove", "--index", "0", "--json"],
            trust: false,
            extra: ["--log-key", "log.pub"]
        )
        #expect(proof.code == 0, "\(proof.stderr)")
        #expect(proof.json?["treeSize"] == checkpoint.json?["treeSize"])
        let consistency = try await auditor.run(
            ["prove", "--from", "\(firstSize)", "--json"],
            trust: false,
            extra: ["--log-key", "log.pub"]
        )
        #expect(consistency.code == 0, "\(consistency.stderr)")
        let roster = try await auditor.run(["roster", "show", "--json"])
        #expect(roster.code == 0, "\(roster.stderr)")
        let governance = try Party.make("governance", signs: true, root: root, server: url, ca: served.ca)
        try FileManager.default.copyItem(
            at: Party.keysFolder.appendingPathComponent("roster.json"),
            to: governance.folder.appendingPathComponent("roster.json")
        )
        let signed = try await governance.run(
            ["roster", "sign", "roster.json", "--governance-key", "governance.key", "--log-key", "log.pub"],
            trust: false
        )
        #expect(signed.code == 0, "\(signed.stderr)")
        let newRoster = try await auditor.run(["roster", "show", "--json"])
        #expect(newRoster.json?["roster"] != roster.json?["roster"])

        // The auditor continues from the checkpoint it verified before: only the new entries are
        // fetched and audited, and the mirror is a ledger the local commands read offline.
        let secondAudit = try await auditor.run(["audit", "--mirror", "mirror.sqlite", "--json"])
        #expect(secondAudit.code == 0, "\(secondAudit.stderr)")
        #expect(secondAudit.json?["passed"] == .bool(true))
        #expect(secondAudit.json?["from"]?.integerValue == firstSize)
        let fetched = secondAudit.json?["fetched"]?.integerValue ?? 0
        #expect(fetched >= 12)
        #expect(secondAudit.json?["entriesChecked"]?.integerValue == fetched)
        #expect(secondAudit.json?["treeSize"]?.integerValue == firstSize + fetched)
        let offlineAudit = try await Party.execute(
            [
                "audit", "--db", "mirror.sqlite", "--governance-key", "governance.pub", "--log-key", "log.pub",
                "--origin", "retrace.test/demo", "--json",
            ],
            in: auditor.folder
        )
        #expect(offlineAudit.code == 0, "\(offlineAudit.stderr)")
        #expect(offlineAudit.json?["entriesChecked"]?.integerValue == firstSize + fetched)
    }

    func expectOK(_ run: Party.Run, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(run.code == 0, "\(run.stderr)", sourceLocation: sourceLocation)
    }

    /// The brand's own signing software: commission statements signed with its key, one JSON line each.
    static func signCommissions(_ products: [String], key: URL, into file: URL) throws {
        let text = try String(contentsOf: key, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let signer = try NoteSigner(parsing: text)
        let time = Timestamp(secondsSinceEpoch: Int64(Date().timeIntervalSince1970) - 120)
        var lines: [UInt8] = []
        for product in products {
            let statement = try Statement(
                type: .commission,
                product: try IdentityParser.parse(product).sgtin,
                previous: nil,
                signer: try Digest(bytes: signer.verifier.publicKey.fingerprint),
                time: time,
                details: ["massGrams": .integer(180)]
            )
            lines +=
                try CanonicalJSON.encode(try SignedStatement.sign(statement, with: signer.privateKey).json) + [0x0A]
        }
        try Data(lines).write(to: file)
    }
}
