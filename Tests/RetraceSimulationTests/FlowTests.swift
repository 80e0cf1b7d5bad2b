import CanonicalJSON
import RetraceEvents
import RetraceIdentity
import RetraceLedger
import RetraceRules
import RetraceSimulation
import Testing

/// Every reverse-logistics flow of issue 3, end to end through the real ledger (SQLite, signatures,
/// roster, lifecycle rules), each ending with the phase read back from the stored chain head.
@Suite("End-to-end flows through the ledger")
struct FlowTests {
    /// A story under way: a recorder whose statements are appended as they are recorded.
    struct Story {
        let fixture: SimulationFixture
        var recorder: ChainRecorder
        var hour: Double = 0

        init(_ fixture: SimulationFixture) {
            self.fixture = fixture
            recorder = ChainRecorder(parties: fixture.parties)
        }

        /// Records one event two hours after the previous one and appends it on its own.
        mutating func event(
            _ type: EventType,
            _ product: SGTIN,
            by party: String,
            _ details: JSONObject = [:]
        ) throws {
            hour += 2
            let signed = try recorder.record(
                type,
                product,
                by: party,
                at: SimulationFixture.time(hours: hour),
                details: details
            )
            try fixture.ledger.append([signed])
        }

        /// Commissioned by Northwind, shipped to `retailer` and received there.
        mutating func stocked(
            _ serial: String,
            at retailer: String = "fabrikam",
            model: SimulatedModel = .phoneX
        ) throws -> SGTIN {
            let product = try model.product(serial: serial)
            try event(
                .commission,
                product,
                by: model.brand,
                [
                    "massGrams": .integer(model.massGrams),
                    "materials": .object(JSONObject(model.materials.mapValues { JSONValue.integer($0) })),
                ]
            )
            try event(.ship, product, by: model.brand, ["consignee": .string(retailer), "carrier": "wingtip"])
            try event(.receive, product, by: retailer, ["condition": "intact"])
            return product
        }

        /// Stocked, sold online by Fabrikam and delivered by Wingtip.
        mutating func delivered(_ serial: String, model: SimulatedModel = .phoneX) throws -> SGTIN {
            let product = try stocked(serial, model: model)
            try event(.sell, product, by: "fabrikam", ["orderDigest": SimulationFixture.digest("order-\(serial)")])
            try event(.ship, product, by: "fabrikam", ["carrier": "wingtip"])
            try event(.deliver, product, by: "wingtip", ["method": "signature"])
            return product
        }

        func phase(_ product: SGTIN) throws -> Phase? { try fixture.state(of: product)?.phase }
    }

    @Test("returns management: authorised, received at the dock, graded as new and restocked")
    func returnAndRestock() throws {
        let fixture = try SimulationFixture()
        defer { fixture.remove() }
        var story = Story(fixture)
        let product = try story.delivered("FLOW-RET-1")
        try story.event(.returnAuthorize, product, by: "fabrikam", ["rma": "RMA-1", "reason": "wrong-size"])
        try story.event(
            .returnReceive,
            product,
            by: "litware",
            [
                "condition": "sealed", "scanned": .string(ScanForm.dataMatrix.text(for: product, lot: "L1")),
                "rma": "RMA-1",
            ]
        )
        #expect(try story.phase(product) == .returned)
        try story.event(.inspect, product, by: "litware", ["grade": "as-new"])
        try story.event(.restock, product, by: "litware")
        let state = try #require(try fixture.state(of: product))
        #expect(state.phase == .inStock)
        #expect(state.custodian == "litware")
        #expect(state.counters.returns == 1)
    }

    @Test("failed delivery: the carrier cannot deliver and the parcel comes back to the returns centre")
    func failedDelivery() throws {
        let fixture = try SimulationFixture()
        defer { fixture.remove() }
        var story = Story(fixture)
        let product = try story.stocked("FLOW-FD-1")
        try story.event(.sell, product, by: "fabrikam", ["orderDigest": SimulationFixture.digest("o-fd")])
        try story.event(.ship, product, by: "fabrikam", ["carrier": "wingtip"])
        try story.event(.deliveryFailed, product, by: "wingtip", ["reason": "bad-address", "attempts": 2])
        #expect(try story.phase(product) == .deliveryFailed)
        try story.event(
            .returnReceive,
            product,
            by: "litware",
            [
                "condition": "sealed", "scanned": .string(ScanForm.epcURN.text(for: product)),
            ]
        )
        #expect(try story.phase(product) == .returned)
    }

    @Test("recall of a lot as one batch statement, then a remedy lifts it and the unit may be sold")
    func recallWithRemedy() throws {
        let fixture = try SimulationFixture()
        defer { fixture.remove() }
        var story = Story(fixture)
        let first = try story.stocked("FLOW-RC-1", model: .speaker)
        let second = try story.stocked("FLOW-RC-2", model: .speaker)
        story.hour += 2
        let recall = try story.recorder.recordBatch(
            .recall,
            [first, second],
            by: "contoso",
            at: SimulationFixture.time(hours: story.hour),
            details: ["notice": "CTS-RN-1", "reason": "safety", "remedy": "software-update"]
        )
        try fixture.ledger.append([recall])
        #expect(try fixture.state(of: second)?.recall?.notice == "CTS-RN-1")
        // While the recall is active the unit cannot be sold.
        let sizeBefore = fixture.treeSize
        var blocked = story.recorder
        let sale = try blocked.record(
            .sell,
            first,
            by: "fabrikam",
            at: SimulationFixture.time(hours: story.hour + 1),
            details: ["orderDigest": SimulationFixture.digest("o-rc")]
        )
        #expect { try fixture.ledger.append([sale]) } throws: { error in
            (error as? LedgerError)?.code == .ruleViolation && (error as? LedgerError)?.rule == "L9 recall-restricts"
        }
        #expect(fixture.treeSize == sizeBefore)
        try story.event(.recallRemedy, first, by: "proseware", ["notice": "CTS-RN-1", "action": "software-updated"])
        try story.event(.sell, first, by: "fabrikam", ["orderDigest": SimulationFixture.digest("o-rc")])
        let state = try #require(try fixture.state(of: first))
        #expect(state.phase == .sold)
        #expect(state.recall == nil)
        #expect(try fixture.state(of: second)?.recall != nil)
    }

    @Test("warranty: a claim repaired under warranty and resolved, and a claim resolved by a replacement")
    func warrantyRepairAndReplacement() throws {
        let fixture = try SimulationFixture()
        defer { fixture.remove() }
        var story = Story(fixture)
        let repaired = try story.delivered("FLOW-WR-1")
        try story.event(.warrantyClaim, repaired, by: "northwind", ["claim": "WC-1", "fault": "battery-swelling"])
        try story.event(
            .repair,
            repaired,
            by: "proseware",
            [
                "work": ["battery-replaced"], "parts": [["part": "battery", "serial": "BAT-1"]],
            ]
        )
        #expect(try story.phase(repaired) == .warrantyRepaired)
        try story.event(.warrantyResolve, repaired, by: "northwind", ["claim": "WC-1", "resolution": "repair"])
        #expect(try story.phase(repaired) == .delivered)

        let faulty = try story.delivered("FLOW-WR-2", model: .laptop)
        let replacement = try story.stocked("FLOW-WR-3", model: .laptop)
        try story.event(.warrantyClaim, faulty, by: "fabrikam", ["claim": "WC-2"])
        try story.event(
            .warrantyResolve,
            faulty,
            by: "fabrikam",
            [
                "claim": "WC-2", "resolution": "replace", "replacement": .string(replacement.digitalLink),
            ]
        )
        try story.event(.sell, replacement, by: "fabrikam", ["orderDigest": SimulationFixture.digest("o-wr3")])
        #expect(try story.phase(faulty) == .returned)
        #expect(try story.phase(replacement) == .sold)
    }

    @Test("trade-in, certified refurbishment by the accredited refurbisher, and certified pre-owned resale")
    func tradeInRefurbishResell() throws {
        let fixture = try SimulationFixture()
        defer { fixture.remove() }
        var story = Story(fixture)
        let product = try story.delivered("FLOW-TI-1")
        try story.event(.tradeIn, product, by: "fabrikam", ["credit": 30_000, "currency": "EUR", "grade": "good"])
        #expect(try story.phase(product) == .tradedIn)
        try story.event(
            .returnReceive,
            product,
            by: "litware",
            [
                "condition": "used", "scanned": .string(ScanForm.humanReadable.text(for: product)),
            ]
        )
        try story.event(.inspect, product, by: "proseware", ["grade": "good"])
        try story.event(
            .refurbish,
            product,
            by: "proseware",
            [
                "work": ["screen-replaced"], "tests": ["display", "battery-health"], "softwareVersion": "17.4.1",
                "warrantyMonths": 12, "certified": true,
            ]
        )
        #expect(try fixture.state(of: product)?.certifiedRefurbished == true)
        try story.event(
            .resell,
            product,
            by: "fabrikam",
            [
                "orderDigest": SimulationFixture.digest("o-cpo"), "certifiedPreOwned": true,
            ]
        )
        let state = try #require(try fixture.state(of: product))
        #expect(state.phase == .sold)
        #expect(state.sale?.certifiedPreOwned == true)
        #expect(state.counters.refurbishments == 1)
        #expect(state.counters.sales == 2)
    }

    @Test("lease-out and lease-return")
    func leaseOutAndReturn() throws {
        let fixture = try SimulationFixture()
        defer { fixture.remove() }
        var story = Story(fixture)
        let product = try story.stocked("FLOW-LS-1", model: .laptop)
        let lease = SimulationFixture.digest("lease-1")
        try story.event(
            .leaseOut,
            product,
            by: "fabrikam",
            [
                "leaseDigest": lease, "until": .string(SimulationFixture.time(hours: 2_000).description),
            ]
        )
        #expect(try fixture.state(of: product)?.lease != nil)
        try story.event(.leaseReturn, product, by: "litware", ["condition": "used", "leaseDigest": lease])
        let state = try #require(try fixture.state(of: product))
        #expect(state.phase == .returned)
        #expect(state.lease == nil)
    }

    @Test("excess inventory donated, one unit on its own and two as a batch")
    func excessDonated() throws {
        let fixture = try SimulationFixture()
        defer { fixture.remove() }
        var story = Story(fixture)
        let single = try story.stocked("FLOW-EX-1", at: "alpine", model: .headphones)
        let pair = [
            try story.stocked("FLOW-EX-2", at: "alpine", model: .headphones),
            try story.stocked("FLOW-EX-3", at: "alpine", model: .headphones),
        ]
        try story.event(.excessDisposition, single, by: "alpine", ["action": "donate", "reference": "DON-1"])
        story.hour += 2
        let batch = try story.recorder.recordBatch(
            .excessDisposition,
            pair,
            by: "alpine",
            at: SimulationFixture.time(hours: story.hour),
            details: ["action": "donate", "reference": "DON-2"]
        )
        try fixture.ledger.append([batch])
        for product in [single] + pair { #expect(try story.phase(product) == .donated) }
    }

    @Test("recycling: a single certificate and a pallet certificate covering several items")
    func recyclingWithCertificate() throws {
        let fixture = try SimulationFixture()
        defer { fixture.remove() }
        var story = Story(fixture)
        let single = try story.stocked("FLOW-RY-1")
        try story.event(
            .recycle,
            single,
            by: "adatum",
            [
                "certificate": "AATF-1", "method": "manual-disassembly", "materials": ["aluminium": 30, "glass": 50],
            ]
        )
        let pallet = [try story.stocked("FLOW-RY-2"), try story.stocked("FLOW-RY-3", model: .tablet)]
        story.hour += 2
        let certificate = try story.recorder.recordBatch(
            .recycle,
            pallet,
            by: "adatum",
            at: SimulationFixture.time(hours: story.hour),
            details: [
                "certificate": "AATF-2", "method": "mechanical-shredding",
                "materials": ["aluminium": 180, "glass": 150, "copper": 35],
            ]
        )
        try fixture.ledger.append([certificate])
        for product in [single] + pallet { #expect(try story.phase(product) == .recycled) }
        #expect(try fixture.state(of: pallet[1])?.head == certificate.id)
    }

    @Test("disposal of an item graded beyond repair")
    func disposal() throws {
        let fixture = try SimulationFixture()
        defer { fixture.remove() }
        var story = Story(fixture)
        let product = try story.delivered("FLOW-DS-1")
        try story.event(.returnAuthorize, product, by: "fabrikam", ["rma": "RMA-DS", "reason": "damaged-in-transit"])
        try story.event(
            .returnReceive,
            product,
            by: "litware",
            [
                "condition": "damaged", "scanned": .string(product.digitalLink), "rma": "RMA-DS",
            ]
        )
        try story.event(.inspect, product, by: "litware", ["grade": "beyond-repair"])
        try story.event(.dispose, product, by: "adatum", ["method": "shredding", "certificate": "DST-1"])
        #expect(try story.phase(product) == .disposed)
    }
}
