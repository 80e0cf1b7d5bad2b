import CanonicalJSON
import RetraceEvents
import RetraceIdentity
import RetraceLedger
import RetraceRules
import RetraceSimulation
import Testing

/// Illegal steps in a simulated story are refused by the ledger with the rule named, and nothing is written.
@Suite("Refusals through the ledger")
struct RefusalTests {
    /// A product taken to `phase`-defining steps, appended; returns the recorder for the next step.
    static func prepare(
        _ fixture: SimulationFixture,
        _ serial: String,
        _ steps: [(EventType, String, JSONObject)]
    ) throws -> (ChainRecorder, SGTIN, Double) {
        var recorder = ChainRecorder(parties: fixture.parties)
        let product = try SimulatedModel.phoneX.product(serial: serial)
        var hour = 0.0
        for (type, party, details) in steps {
            hour += 1
            try fixture.ledger.append([
                recorder.record(type, product, by: party, at: SimulationFixture.time(hours: hour), details: details)
            ])
        }
        return (recorder, product, hour)
    }

    static let toStock: [(EventType, String, JSONObject)] = [
        (.commission, "northwind", ["massGrams": 204]), (.ship, "northwind", ["consignee": "fabrikam"]),
        (.receive, "fabrikam", [:]),
    ]

    static func refused(
        _ fixture: SimulationFixture,
        _ signed: SignedStatement,
        rule: String
    ) -> Bool {
        let before = fixture.treeSize
        do {
            try fixture.ledger.append([signed])
            return false
        } catch {
            return error.code == .ruleViolation && error.rule == rule && fixture.treeSize == before
        }
    }

    @Test("a recycled item cannot be sold: L7 terminal, tree size unchanged")
    func saleOfRecycledItem() throws {
        let fixture = try SimulationFixture()
        defer { fixture.remove() }
        var (recorder, product, hour) = try Self.prepare(
            fixture,
            "REF-1",
            Self.toStock + [
                (.recycle, "adatum", ["certificate": "AATF-9", "method": "smelting", "materials": ["copper": 10]])
            ]
        )
        let sale = try recorder.record(
            .sell,
            product,
            by: "fabrikam",
            at: SimulationFixture.time(hours: hour + 1),
            details: ["orderDigest": SimulationFixture.digest("o")]
        )
        #expect(Self.refused(fixture, sale, rule: "L7 terminal"))
    }

    @Test("a unit graded fair cannot go straight back to stock: L15 restock-condition")
    func restockAfterFairGrade() throws {
        let fixture = try SimulationFixture()
        defer { fixture.remove() }
        var (recorder, product, hour) = try Self.prepare(
            fixture,
            "REF-2",
            Self.toStock + [
                (.sell, "fabrikam", ["orderDigest": SimulationFixture.digest("o2")]),
                (.returnAuthorize, "fabrikam", ["rma": "R-2", "reason": "defective"]),
                (.returnReceive, "litware", ["condition": "used", "scanned": "(01)09506000134352(21)REF-2"]),
                (.inspect, "litware", ["grade": "fair"]),
            ]
        )
        let restock = try recorder.record(.restock, product, by: "litware", at: SimulationFixture.time(hours: hour + 1))
        #expect(Self.refused(fixture, restock, rule: "L15 restock-condition"))
    }

    @Test("an item not refurbished as certified cannot be resold as certified pre-owned: L17")
    func uncertifiedResale() throws {
        let fixture = try SimulationFixture()
        defer { fixture.remove() }
        var (recorder, product, hour) = try Self.prepare(
            fixture,
            "REF-3",
            Self.toStock + [
                (.sell, "fabrikam", ["orderDigest": SimulationFixture.digest("o3")]),
                (.tradeIn, "fabrikam", ["credit": 100, "currency": "EUR"]),
                (.returnReceive, "litware", ["condition": "used", "scanned": "(01)09506000134352(21)REF-3"]),
                (.inspect, "proseware", ["grade": "good"]),
                (
                    .refurbish, "proseware",
                    [
                        "work": ["deep-clean"], "tests": ["display"], "warrantyMonths": 3,
                        "certified": false,
                    ]
                ),
            ]
        )
        let resale = try recorder.record(
            .resell,
            product,
            by: "fabrikam",
            at: SimulationFixture.time(hours: hour + 1),
            details: ["orderDigest": SimulationFixture.digest("o3b"), "certifiedPreOwned": true]
        )
        #expect(Self.refused(fixture, resale, rule: "L17 certified-resale"))
    }

    @Test("a dock scan of another product is refused on return-receive: L18 dock-scan")
    func dockScanMismatch() throws {
        let fixture = try SimulationFixture()
        defer { fixture.remove() }
        var (recorder, product, hour) = try Self.prepare(
            fixture,
            "REF-4",
            Self.toStock + [
                (.sell, "fabrikam", ["orderDigest": SimulationFixture.digest("o4")]),
                (.returnAuthorize, "fabrikam", ["rma": "R-4", "reason": "not-as-described"]),
            ]
        )
        let substitute = SGTIN(gtin: SimulatedModel.phoneLite.gtin, serial: product.serial)
        let receipt = try recorder.record(
            .returnReceive,
            product,
            by: "litware",
            at: SimulationFixture.time(hours: hour + 1),
            details: ["condition": "sealed", "scanned": .string(ScanForm.dataMatrix.text(for: substitute))]
        )
        #expect(Self.refused(fixture, receipt, rule: "L18 dock-scan"))
    }
}
