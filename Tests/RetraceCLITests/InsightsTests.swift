import CanonicalJSON
import Foundation
import RetraceCrypto
import RetraceEvents
import RetraceSimulation
import Testing

/// `retrace insights` on the demo ledger, against figures computed here independently: straight
/// from the story's signed statements, with none of the lifecycle code the report uses (no
/// product state, no audit), only the catalogue's meaning of each event type.
@Suite("return insights")
struct InsightsTests {
    /// What this test derives from the story by itself.
    struct Expected {
        var sales = 0
        var returns = 0
        var reasons: [String: Int] = [:]
        var returnsByRetailer: [String: Int] = [:]
        var salesByRetailer: [String: Int] = [:]
        var failed: [String: Int] = [:]
        var stolenResurfaced = 0
        var saleToReturnHours: [Int64] = []
        var recalls: [String: (affected: Int, remedied: Int, notAffected: Int, endOfLife: Int)] = [:]
        var returnsPerCustomer: [String: Int] = [:]
    }

    static func expected() throws -> Expected {
        let (statements, _) = try DemoStory.statements(parties: TestParties())
        let parties = try TestParties()
        var partyOf: [String: String] = [:]
        for (id, signer) in parties.signers { partyOf[Hex.encode(signer.verifier.publicKey.fingerprint)] = id }
        var expected = Expected()
        var sale: [String: (retailer: String, time: Int64, customer: String?)] = [:]
        var rmaReason: [String: String] = [:]
        var lastType: [String: String] = [:]
        var stolen: Set<String> = []
        var lot: [String: String] = [:]
        var recalledBy: [String: String] = [:]
        for signed in statements {
            let statement = signed.statement
            let signer = partyOf[statement.signer.hex] ?? "?"
            let products = statement.product.map { [$0.digitalLink] } ?? signed.members.map(\.product.digitalLink)
            let type = statement.type.name
            for product in products {
                switch type {
                case "commission":
                    if let value = statement.details["lot"]?.stringValue { lot[product] = value }
                case "sell", "resell":
                    expected.sales += 1
                    expected.salesByRetailer[signer, default: 0] += 1
                    sale[product] = (
                        signer, statement.time.secondsSinceEpoch, statement.details["customerDigest"]?.stringValue
                    )
                    rmaReason[product] = nil
                case "return-authorize":
                    rmaReason[product] = statement.details["reason"]?.stringValue
                case "report-stolen":
                    stolen.insert(product)
                case "delivery-failed":
                    expected.failed[statement.details["reason"]?.stringValue ?? "", default: 0] += 1
                case "return-receive":
                    if stolen.remove(product) != nil {
                        expected.stolenResurfaced += 1
                    } else {
                        expected.returns += 1
                        let reason =
                            rmaReason[product]
                            ?? (lastType[product] == "delivery-failed"
                                ? "undelivered" : lastType[product] == "trade-in" ? "trade-in" : "no-rma")
                        expected.reasons[reason, default: 0] += 1
                        if let sold = sale[product] {
                            expected.returnsByRetailer[sold.retailer, default: 0] += 1
                            expected.saleToReturnHours.append((statement.time.secondsSinceEpoch - sold.time) / 3600)
                            if let customer = sold.customer { expected.returnsPerCustomer[customer, default: 0] += 1 }
                        }
                        rmaReason[product] = nil
                    }
                case "recall":
                    let key = "\(statement.details["notice"]?.stringValue ?? "") \(lot[product] ?? "(no lot)")"
                    expected.recalls[key, default: (0, 0, 0, 0)].affected += 1
                    recalledBy[product] = key
                case "recall-remedy":
                    if let key = recalledBy.removeValue(forKey: product) {
                        if statement.details["action"]?.stringValue == "not-affected" {
                            expected.recalls[key]?.notAffected += 1
                        } else {
                            expected.recalls[key]?.remedied += 1
                        }
                    }
                case "recycle", "dispose":
                    if let key = recalledBy.removeValue(forKey: product) { expected.recalls[key]?.endOfLife += 1 }
                default:
                    break
                }
                if !["recall", "recall-remedy", "report-stolen", "report-lost"].contains(type) {
                    lastType[product] = type
                }
            }
        }
        return expected
    }

    static func nearestRank(_ values: [Int64], _ p: Int) -> Int64? {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return nil }
        return sorted[max(1, Int((Double(p) / 100 * Double(sorted.count)).rounded(.up))) - 1]
    }

    static func keyed(_ value: JSONValue?) -> [String: JSONObject] {
        var result: [String: JSONObject] = [:]
        for row in value?.arrayValue ?? [] {
            if let object = row.objectValue, let key = object.string("key") { result[key] = object }
        }
        return result
    }

    static func counts(_ value: JSONValue?) -> [String: Int] {
        var result: [String: Int] = [:]
        for (key, count) in value?.objectValue ?? JSONObject() where (count.integerValue ?? 0) > 0 {
            result[key] = Int(count.integerValue ?? 0)
        }
        return result
    }

    @Test("the demo ledger's returns, reasons, delays, failed deliveries, recalls and fraud signals match the story")
    func demoFigures() throws {
        let work = try Workspace()
        defer { work.remove() }
        _ = try VerificationCLITests.demo(work)
        let result = try work.run(["insights", "--db", "retrace-demo.sqlite", "--json"])
        #expect(result.code == 0, "\(result.stderr)")
        let report = try #require(result.json)
        let expected = try Self.expected()
        let returns = try #require(report.object("returns"))
        // Sanity of the story itself, so that the comparisons below cannot pass on empty figures.
        #expect(expected.returns >= 10 && expected.sales >= 20 && !expected.failed.isEmpty && !expected.recalls.isEmpty)

        #expect(returns.integer("sales") == Int64(expected.sales))
        #expect(returns.integer("returns") == Int64(expected.returns))
        #expect(returns.integer("rateBasisPoints") == Int64(expected.returns * 10_000 / expected.sales))
        #expect(Self.counts(returns["reasons"]) == expected.reasons)
        #expect(Self.counts(returns["failedDeliveries"]) == expected.failed)
        let byRetailer = Self.keyed(returns["byRetailer"])
        for (retailer, count) in expected.returnsByRetailer {
            #expect(byRetailer[retailer]?.integer("returns") == Int64(count), "\(retailer)")
        }
        for (retailer, count) in expected.salesByRetailer {
            #expect(byRetailer[retailer]?.integer("sales") == Int64(count), "\(retailer)")
        }
        let hours = try #require(returns.object("saleToReturnHours"))
        #expect(hours.integer("count") == Int64(expected.saleToReturnHours.count))
        #expect(hours.integer("median") == Self.nearestRank(expected.saleToReturnHours, 50))
        #expect(hours.integer("p90") == Self.nearestRank(expected.saleToReturnHours, 90))
        // Months and GTINs partition the same returns.
        let monthTotal = Self.keyed(returns["byMonth"]).values.reduce(0) { $0 + ($1.integer("returns") ?? 0) }
        let gtinTotal = Self.keyed(returns["byGTIN"]).values.reduce(0) { $0 + ($1.integer("returns") ?? 0) }
        #expect(monthTotal == Int64(expected.returns) && gtinTotal == Int64(expected.returns))

        let recalls = (report.array("recalls") ?? []).compactMap(\.objectValue)
        #expect(recalls.count == expected.recalls.count)
        for recall in recalls {
            let key = "\(recall.string("notice") ?? "") \(recall.string("lot") ?? "")"
            let want = try #require(expected.recalls[key], "\(key)")
            #expect(recall.integer("affected") == Int64(want.affected))
            #expect(recall.integer("remedied") == Int64(want.remedied))
            #expect(recall.integer("notAffected") == Int64(want.notAffected))
            #expect(recall.integer("endOfLife") == Int64(want.endOfLife))
            #expect(
                recall.integer("stillInField")
                    == Int64(want.affected - want.remedied - want.notAffected - want.endOfLife)
            )
        }
        // README: "a sound bar of recalled lot L2026-02A comes back unremedied".
        #expect(recalls.contains { $0.string("lot") == "L2026-02A" && ($0.integer("stillInField") ?? 0) >= 1 })

        let fraud = try #require(report.object("fraud"))
        #expect(fraud.object("stolenResurfaced")?.integer("total") == Int64(expected.stolenResurfaced))
        let repeaters = (fraud.array("repeatReturners") ?? []).compactMap(\.objectValue)
        #expect(repeaters.count == expected.returnsPerCustomer.values.filter { $0 >= 2 }.count)
        // Pseudonymous only: every customer is a 64-hex salted digest.
        #expect(repeaters.allSatisfy { $0.string("customerDigest")?.count == 64 })

        let outcomes = Self.counts(report.object("recovery")?["outcomes"])
        #expect(outcomes.values.reduce(0, +) == expected.returns)
    }

    @Test("filters narrow the figures: one retailer's sales, a period without events, a GTIN; bad filters are refused")
    func filters() throws {
        let work = try Workspace()
        defer { work.remove() }
        _ = try VerificationCLITests.demo(work)
        let expected = try Self.expected()
        let fabrikam = try #require(
            try work.run(["insights", "--db", "retrace-demo.sqlite", "--retailer", "fabrikam", "--json"]).json
        )
        #expect(fabrikam.object("returns")?.integer("sales") == Int64(expected.salesByRetailer["fabrikam"] ?? -1))
        #expect(fabrikam.object("returns")?.integer("returns") == Int64(expected.returnsByRetailer["fabrikam"] ?? -1))
        let empty = try #require(
            try work.run(["insights", "--db", "retrace-demo.sqlite", "--from", "2030-01-01", "--json"]).json
        )
        #expect(empty.object("returns")?.integer("sales") == 0)
        #expect(empty.object("returns")?["rateBasisPoints"] == .null)
        let phones = try #require(
            try work.run(["insights", "--db", "retrace-demo.sqlite", "--gtin", "09506000134352", "--json"]).json
        )
        let gtins = Self.keyed(phones.object("returns")?["byGTIN"])
        #expect(Array(gtins.keys) == ["09506000134352"])
        let bad = try work.run(["insights", "--db", "retrace-demo.sqlite", "--from", "March"])
        #expect(bad.code == 2 && bad.isOneLineError, "\(bad.stderr)")
        let text = try work.run(["insights", "--db", "retrace-demo.sqlite"])
        #expect(text.code == 0 && text.stdout.contains("RETURNS") && text.stdout.contains("FRAUD SIGNALS"))
    }

    @Test("dock scans are countable from the docks' signed journals; forged, foreign and copied lines do not count")
    func scanJournals() throws {
        let work = try Workspace()
        defer { work.remove() }
        let demo = try VerificationCLITests.demo(work)
        let journal = try #require(demo.string("scanJournal"))
        var planted: [String: Int] = [:]
        for scan in VerificationCLITests.scans(demo) { planted[scan.string("expected") ?? "", default: 0] += 1 }
        #expect(planted.count >= 10)

        let result = try work.run(["insights", "--db", "retrace-demo.sqlite", "--scans", journal, "--json"])
        #expect(result.code == 0, "\(result.stderr)")
        let scans = try #require(result.json?.object("dockScans"))
        #expect(Self.counts(scans["byVerdict"]) == planted)
        #expect(scans.integer("rejectedCount") == 0)
        #expect(scans.object("signals")?.integer("seenAfterEndOfLife") == 1)
        #expect(scans.object("signals")?.integer("attemptedWrongChannel") == 1)
        #expect(scans.object("signals")?.integer("attemptedOutsideWindow") == 1)

        // A forged verdict, a copy of the whole journal, and a scan signed by a brand owner (not a dock).
        let lines = String(decoding: try #require(work.bytes(journal)), as: UTF8.self).split(separator: "\n")
        let forged = lines[0].replacingOccurrences(
            of: "\"verdict\":\"genuine-returnable\"",
            with: "\"verdict\":\"end-of-life\""
        )
        #expect(forged != String(lines[0]))
        try work.write("forged.jsonl", Array((forged + "\n").utf8))
        try work.write("copy.jsonl", try #require(work.bytes(journal)))
        let scanned = try work.run([
            "scan", "https://id.gs1.org/01/09506000134352/21/NWX26A1296", "--db", "retrace-demo.sqlite", "--dock",
            "litware", "--journal", "brand.jsonl", "--key", "keys/northwind.key", "--time", "2026-07-02T10:00:00Z",
        ])
        #expect(scanned.code == 1, "the verdict is already-returned: \(scanned.stderr)")
        let docked = try work.run([
            "scan", "https://id.gs1.org/01/09506000134352/21/NWX26A1296", "--db", "retrace-demo.sqlite", "--dock",
            "litware", "--journal", "dock.jsonl", "--key", "keys/litware.key", "--time", "2026-07-02T10:00:00Z",
        ])
        #expect(docked.code == 1)
        let mixed = try work.run([
            "insights", "--db", "retrace-demo.sqlite", "--scans", journal, "--scans", "copy.jsonl", "--scans",
            "forged.jsonl", "--scans", "brand.jsonl", "--scans", "dock.jsonl", "--json",
        ])
        let counted = try #require(mixed.json?.object("dockScans"))
        var expected = planted
        expected["already-returned", default: 0] += 1
        #expect(Self.counts(counted["byVerdict"]) == expected, "only the dock's own new scan is added")
        #expect(counted.integer("duplicates") == Int64(lines.count))
        #expect(counted.integer("rejectedCount") == 2)
        let reasons = (counted.array("rejected") ?? []).compactMap(\.stringValue)
        #expect(reasons.contains { $0.hasPrefix("forged.jsonl:1") && $0.contains("does not verify") }, "\(reasons)")
        #expect(
            reasons.contains { $0.hasPrefix("brand.jsonl:1") && $0.contains("not a receiving party") },
            "\(reasons)"
        )
        #expect(counted.object("byDock")?.object("litware")?.integer("already-returned") == 2)
    }

    @Test(
        "--state: a later run audits and folds only the new entries and gives the figures of a full fold; a rolled-back ledger is refused"
    )
    func incrementalState() throws {
        let work = try Workspace()
        defer { work.remove() }
        try work.initLedger()
        let product = "(01)09506000134352(21)INC001"
        let steps: [(String, String, String, [String])] = [
            ("commission", "northwind", "2026-03-02T10:00:00Z", []),
            ("ship", "northwind", "2026-03-02T11:00:00Z", ["consignee=fabrikam"]),
            ("receive", "fabrikam", "2026-03-02T12:00:00Z", []),
            (
                "sell", "fabrikam", "2026-03-02T13:00:00Z",
                ["orderDigest=\(String(repeating: "3", count: 64))", "price=79900", "currency=EUR"]
            ),
            ("return-authorize", "fabrikam", "2026-03-04T13:00:00Z", ["rma=RMA-I1", "reason=defective"]),
            (
                "return-receive", "litware", "2026-03-06T13:00:00Z",
                ["rma=RMA-I1", "condition=used", "scanned=\(product)"]
            ),
            ("inspect", "litware", "2026-03-06T14:00:00Z", ["grade=good"]),
        ]
        func record(_ range: Range<Int>) throws {
            for (type, party, time, details) in steps[range] {
                let result = try work.run(
                    [
                        "record", type, "--db", "ledger.sqlite", "--key", "keys/\(party).key", "--product", product,
                        "--time", time, "--log-key", "keys/log.key",
                    ] + details.flatMap { ["--detail", $0] }
                )
                #expect(result.code == 0, "\(type): \(result.stderr)")
            }
        }
        func figures(_ run: CLIResult) throws -> (JSONObject, JSONObject) {
            var report = try #require(run.json, "\(run.stderr)")
            let meta = try #require(report.object("run"))
            report["run"] = nil
            return (report, meta)
        }
        try record(0..<4)
        try FileManager.default.copyItem(atPath: work.path("ledger.sqlite"), toPath: work.path("older.sqlite"))
        let first = try figures(try work.run(["insights", "--db", "ledger.sqlite", "--state", "state.json", "--json"]))
        #expect(first.1["resumedFrom"] == .null)
        let sizeAfterSale = try #require(first.0.object("ledger")?.integer("treeSize"))

        try record(4..<steps.count)
        let continued = try figures(
            try work.run(["insights", "--db", "ledger.sqlite", "--state", "state.json", "--json"])
        )
        #expect(continued.1.integer("resumedFrom") == sizeAfterSale)
        #expect(continued.1.integer("entriesAudited") == 3)
        let full = try figures(try work.run(["insights", "--db", "ledger.sqlite", "--json"]))
        #expect(continued.0 == full.0)
        #expect(continued.0.object("returns")?.integer("returns") == 1)
        #expect(full.1.integer("entriesAudited") == sizeAfterSale + 3)

        // The state now covers a checkpoint the older copy never signed: refused, the state kept.
        let kept = try Data(contentsOf: URL(fileURLWithPath: work.path("state.json")))
        let rolledBack = try work.run(["insights", "--db", "older.sqlite", "--state", "state.json"])
        #expect(rolledBack.code != 0)
        #expect(rolledBack.stderr.contains("delete the file"), "\(rolledBack.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: work.path("state.json"))) == kept)

        // Figures kept for other filters are not reused: the whole ledger is folded again.
        let other = try work.run([
            "insights", "--db", "ledger.sqlite", "--state", "state.json", "--gtin", "09506000134352", "--json",
        ])
        let otherMeta = try figures(other).1
        #expect(otherMeta["resumedFrom"] == .null)
        #expect(other.stderr.contains("other filters"), "\(other.stderr)")
    }

    @Test(
        "value recovered: a unit sold at a price (catalogue 1.1), returned, restocked and sold again at a lower price"
    )
    func valueRecovered() throws {
        let work = try Workspace()
        defer { work.remove() }
        try work.initLedger()
        let product = "(01)09506000134352(21)VAL001"
        let order1 = String(repeating: "1", count: 64)
        let order2 = String(repeating: "2", count: 64)
        let steps: [(String, String, String, [String])] = [
            ("commission", "northwind", "2026-03-02T10:00:00Z", []),
            ("ship", "northwind", "2026-03-02T11:00:00Z", ["consignee=fabrikam"]),
            ("receive", "fabrikam", "2026-03-02T12:00:00Z", []),
            ("sell", "fabrikam", "2026-03-02T13:00:00Z", ["orderDigest=\(order1)", "price=79900", "currency=EUR"]),
            ("return-authorize", "fabrikam", "2026-03-04T13:00:00Z", ["rma=RMA-V1", "reason=no-longer-needed"]),
            (
                "return-receive", "litware", "2026-03-06T13:00:00Z",
                ["rma=RMA-V1", "condition=sealed", "scanned=\(product)"]
            ),
            ("inspect", "litware", "2026-03-06T14:00:00Z", ["grade=as-new"]),
            ("restock", "litware", "2026-03-06T15:00:00Z", []),
            ("ship", "litware", "2026-03-07T10:00:00Z", ["consignee=fabrikam"]),
            ("receive", "fabrikam", "2026-03-08T10:00:00Z", []),
            ("sell", "fabrikam", "2026-03-09T13:00:00Z", ["orderDigest=\(order2)", "price=69900", "currency=EUR"]),
        ]
        for (type, party, time, details) in steps {
            let result = try work.run(
                [
                    "record", type, "--db", "ledger.sqlite", "--key", "keys/\(party).key", "--product", product,
                    "--time", time,
                    "--log-key", "keys/log.key",
                ] + details.flatMap { ["--detail", $0] }
            )
            #expect(result.code == 0, "\(type): \(result.stderr)")
        }
        // Catalogue 1.1 still refuses half a price.
        let half = try work.run([
            "record", "sell", "--db", "ledger.sqlite", "--key", "keys/fabrikam.key", "--product", product, "--time",
            "2026-03-10T13:00:00Z", "--log-key", "keys/log.key", "--detail", "orderDigest=\(order1)", "--detail",
            "price=5",
        ])
        #expect(half.code != 0 && half.stderr.contains("currency"), "\(half.stderr)")

        let report = try #require(try work.run(["insights", "--db", "ledger.sqlite", "--json"]).json)
        let euro = try #require(report.object("recovery")?.object("value")?.object("EUR"))
        #expect(euro.integer("returnedUnits") == 1)
        #expect(euro.integer("originalPrice") == 79_900)
        #expect(euro.integer("resoldUnits") == 1)
        #expect(euro.integer("recovered") == 69_900)
        #expect(report.object("recovery")?.object("returnToResaleHours")?.integer("median") == 72)
        #expect(Self.counts(report.object("recovery")?["outcomes"]) == ["restocked-and-sold": 1])
        #expect(Self.counts(report.object("returns")?["reasons"]) == ["no-longer-needed": 1])
    }
}
