import CanonicalJSON
import RetraceEvents
import RetraceIdentity
import RetraceLedger
import RetraceRules
import RetraceSimulation
import RetraceStorage
import Testing

@Suite("The demo story")
struct DemoStoryTests {
    @Test("plays fully on a fresh ledger, every planted fraud in place for the dock")
    func playsFully() throws {
        let fixture = try SimulationFixture()
        defer { fixture.remove() }
        var reported: [(Int, Int)] = []
        let script = try DemoStory.play(on: fixture.ledger, parties: fixture.parties) { reported.append(($0, $1)) }
        #expect(fixture.treeSize == UInt64(script.statementCount) + 1)
        #expect(reported.last.map { $0.0 == $0.1 && $0.1 == script.statementCount } == true)
        #expect((45...60).contains(script.products.count))
        print(
            "demo: \(script.statementCount) statements, \(script.products.count) products, "
                + "\(script.scans.count) dock scans, \(script.start) to \(script.end)"
        )

        func phase(_ product: SGTIN) throws -> Phase? { try fixture.state(of: product)?.phase }
        func scan(_ verdict: String) throws -> DemoScan {
            try #require(script.scans.first { $0.expectedVerdict == verdict }, "no scan expecting \(verdict)")
        }
        // Every scan reads as the product it names.
        for planted in script.scans { #expect(try IdentityParser.parse(planted.scan).sgtin == planted.product) }
        #expect(script.scans.allSatisfy { $0.time > script.end })

        let counterfeit = try scan("unknown-serial")
        #expect(try fixture.state(of: counterfeit.product) == nil)
        let serialRows = try fixture.ledger.store.read { try $0.products(withSerial: counterfeit.product.serial.value) }
        #expect(serialRows.isEmpty)

        let clone = try scan("already-returned")
        let cloneState = try #require(try fixture.state(of: clone.product))
        #expect(cloneState.counters.returns == 1)
        #expect(cloneState.phase == .inspected)

        let recycled = try scan("end-of-life")
        #expect(try phase(recycled.product) == .recycled)
        #expect(script.recycledProducts.contains(recycled.product))

        let substitution = try scan("product-mismatch")
        #expect(try fixture.state(of: substitution.product) == nil)
        let genuineRows = try fixture.ledger.store.read {
            try $0.products(withSerial: substitution.product.serial.value)
        }
        #expect(genuineRows.count == 1)
        #expect(genuineRows.first?.gtin != substitution.product.gtin.digits)
        let claimed = try SGTIN(gtin: GTIN(try #require(genuineRows.first).gtin), serial: substitution.product.serial)
        #expect(try fixture.state(of: claimed)?.returnAuthorization?.rma == substitution.claimedRMA)

        let diverted = try scan("never-sold")
        let divertedState = try #require(try fixture.state(of: diverted.product))
        #expect(divertedState.phase == .inStock)
        #expect(divertedState.counters.sales == 0)

        let late = try scan("outside-return-window")
        let lateSale = try #require(try fixture.state(of: late.product)?.sale)
        #expect(try #require(lateSale.returnBy) < late.time)

        let wrongDock = try scan("wrong-channel")
        let wrongSale = try #require(try fixture.state(of: wrongDock.product)?.sale)
        #expect(wrongSale.retailer != wrongDock.dock)
        #expect(try #require(wrongSale.returnBy) > wrongDock.time)

        let recalled = try scan("recalled")
        #expect(try fixture.state(of: recalled.product)?.recall != nil)
        let stolen = try scan("reported-stolen")
        #expect(try fixture.state(of: stolen.product)?.missing?.kind == "stolen")

        let genuine = script.scans.filter { $0.expectedVerdict == "genuine-returnable" }
        #expect(genuine.count >= 2)
        for scan in genuine {
            let sale = try #require(try fixture.state(of: scan.product)?.sale)
            #expect(try #require(sale.returnBy) > scan.time)
        }

        // The showcase is a certified refurbished phone resold as certified pre-owned.
        let showcase = try #require(try fixture.state(of: script.showcase))
        #expect(showcase.certifiedRefurbished)
        #expect(showcase.sale?.certifiedPreOwned == true)
        #expect(showcase.phase == .delivered)
        // The pallet certificate covers several items, all recycled by one statement.
        #expect(script.recycledProducts.count >= 3)
        let heads = try script.recycledProducts.map { try #require(try fixture.state(of: $0)).head }
        #expect(Set(heads).count == 1)
    }

    @Test("uses every return reason, every delivery failure and every flow's event type")
    func coversEveryFlow() throws {
        let (statements, script) = try DemoStory.statements(parties: SimulationFixture.parties)
        // The dock scans use every identity form a scanner emits, GS-separated element strings included.
        let forms = Set(try script.scans.map { try IdentityParser.parse($0.scan).form })
        #expect(forms == Set(ProductScan.Form.allCases))
        #expect(script.scans.contains { $0.scan.hasPrefix("]d2") && $0.scan.contains("\u{1D}") })
        #expect(Set(script.scans.map(\.expectedVerdict)).count == 10)
        let reasons = Set(
            statements.filter { $0.statement.type == .returnAuthorize }
                .compactMap { $0.statement.details["reason"]?.stringValue }
        )
        #expect(reasons == Set(Catalogue.returnReasons))
        let failures = Set(
            statements.filter { $0.statement.type == .deliveryFailed }
                .compactMap { $0.statement.details["reason"]?.stringValue }
        )
        #expect(failures == Set(Catalogue.deliveryFailures))
        let types = Set(statements.map(\.statement.type))
        #expect(types == Set(EventType.all.filter { $0 != .roster }))
        let recalls = statements.filter { $0.statement.type == .recall }
        #expect(recalls.count == 1)
        #expect(recalls.first.map { $0.members.count } == 6)
        // Statements are in time order, as the days they cover.
        #expect(zip(statements, statements.dropFirst()).allSatisfy { $0.statement.time <= $1.statement.time })
    }

    @Test("is deterministic: the same statement ids on every run")
    func deterministic() throws {
        let first = try DemoStory.statements(parties: SimulationFixture.parties).0.map(\.id)
        let second = try DemoStory.statements(parties: SimulationFixture.parties).0.map(\.id)
        #expect(first == second)
    }
}
