import CanonicalJSON
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceRules
import Testing

/// Every business flow of the catalogue, end to end, with real signed statements.
struct FlowTests {
    func violation(_ body: () throws -> Void) -> RuleViolation? {
        do { try body() } catch let error as RuleViolation { return error } catch { return nil }
        return nil
    }

    @Test("a web sale is returned, inspected as new and restocked, then sold again")
    func returnWithRestock() throws {
        let parties = try TestParties.get()
        var chain = ProductChain(try TestParties.northwindProduct("RET-001"), parties: parties)
        let commissioned = try chain.record(.commission, location: "9506000000015")
        #expect(commissioned.phase == .commissioned)
        #expect(commissioned.brandOwner == "northwind")
        #expect(commissioned.passport == chain.head)
        try chain.record(.ship, by: "northwind", details: ["consignee": "fabrikam", "carrier": "wingtip"])
        #expect(chain.state?.consignee == "fabrikam")
        try chain.record(.receive, by: "fabrikam", location: "9520001000010")
        #expect(chain.phase == .inStock)
        #expect(chain.state?.custodian == "fabrikam")
        let sold = try chain.record(.sell, by: "fabrikam")
        #expect(sold.sale?.retailer == "fabrikam")
        #expect(sold.sale?.returnBy != nil)
        #expect(sold.counters.sales == 1)
        try chain.record(.ship, by: "fabrikam")
        #expect(chain.phase == .outForDelivery)
        try chain.record(.deliver, by: "wingtip")
        #expect(chain.phase == .delivered)
        #expect(chain.state?.custodian == nil)
        try chain.record(.returnAuthorize, by: "fabrikam", details: ["rma": "RMA-7731", "reason": "wrong-size"])
        #expect(chain.state?.returnAuthorization?.rma == "RMA-7731")
        let received = try chain.record(
            .returnReceive,
            by: "litware",
            details: ["condition": "sealed", "scanned": .string(chain.product.digitalLink), "rma": "RMA-7731"],
            location: "9520003000018"
        )
        #expect(received.phase == .returned)
        #expect(received.returnAuthorization == nil)
        #expect(received.counters.returns == 1)
        #expect(received.sale?.retailer == "fabrikam")
        try chain.record(
            .inspect,
            by: "litware",
            details: ["grade": "as-new", "evidence": [.string(TestParties.saltedDigest("photo-1"))]]
        )
        let restocked = try chain.record(.restock, by: "litware")
        #expect(restocked.phase == .inStock)
        #expect(restocked.sale == nil)
        let resold = try chain.record(.sell, by: "fabrikam")
        #expect(resold.counters.sales == 2)
        #expect(resold.counters.returns == 1)
    }

    @Test("the return may also be scanned in another identity form at the dock")
    func returnScannedAsElementString() throws {
        let parties = try TestParties.get()
        var chain = try ProductChain.inPhase(.returnAuthorized, serial: "RET-002", parties: parties)
        let state = try chain.record(
            .returnReceive,
            details: ["condition": "opened", "scanned": .string("(01)09506000134352(21)RET-002")]
        )
        #expect(state.phase == .returned)
    }

    @Test("a failed delivery goes back to the returns dock and into stock; a re-delivery also works")
    func failedDelivery() throws {
        let parties = try TestParties.get()
        var chain = try ProductChain.inPhase(.outForDelivery, serial: "FAIL-001", parties: parties)
        let failed = try chain.record(
            .deliveryFailed,
            by: "wingtip",
            details: ["reason": "bad-address", "attempts": 2]
        )
        #expect(failed.phase == .deliveryFailed)
        #expect(failed.custodian == "wingtip")
        try chain.record(.returnReceive, by: "litware")
        try chain.record(.inspect, by: "litware")
        #expect(try chain.record(.restock, by: "litware").phase == .inStock)

        var second = try ProductChain.inPhase(.outForDelivery, serial: "FAIL-002", parties: parties)
        try second.record(.deliveryFailed, details: ["reason": "recipient-absent"])
        try second.record(.ship, by: "fabrikam")
        #expect(try second.record(.deliver).phase == .delivered)
    }

    @Test("a lot recall blocks sale until the remedy; a recalled unit that comes back is recycled")
    func recallWithRemedy() throws {
        let parties = try TestParties.get()
        var inStock = try ProductChain.inPhase(.inStock, serial: "RC-001", parties: parties)
        var withCustomer = try ProductChain.inPhase(.delivered, serial: "RC-002", parties: parties)
        // One recall statement for the lot, as a batch.
        let members = [
            BatchMember(product: inStock.product, previous: try #require(inStock.head)),
            BatchMember(product: withCustomer.product, previous: try #require(withCustomer.head)),
        ]
        let northwind = parties.signer("northwind")
        let recall = try SignedStatement.sign(
            try Statement(
                type: .recall,
                product: nil,
                previous: nil,
                batch: BatchMember.commitment(for: members),
                signer: TestParties.fingerprint(northwind),
                time: max(inStock.clock, withCustomer.clock),
                details: ["notice": "NW-RECALL-2025-01", "reason": "safety", "remedy": "software-update"]
            ),
            with: northwind.privateKey,
            members: members
        )
        #expect(try inStock.apply(member: recall).recall?.notice == "NW-RECALL-2025-01")
        #expect(try withCustomer.apply(member: recall).recall?.event == recall.id)

        let refused = violation { try inStock.record(.sell) }
        #expect(refused?.code == .recallRestricts)
        #expect(refused?.rule == Rule.recallRestricts)
        #expect(refused?.product == inStock.product.digitalLink)
        #expect(violation { try inStock.record(.leaseOut) }?.code == .recallRestricts)
        #expect(violation { try inStock.record(.excessDisposition) }?.code == .recallRestricts)
        #expect(violation { try inStock.record(.recall) }?.rule == Rule.recallOverlay)
        #expect(
            violation { try inStock.record(.recallRemedy, details: ["notice": "OTHER-1", "action": "repaired"]) }?
                .code == .referenceMismatch
        )
        let remedied = try inStock.record(.recallRemedy, by: "proseware")
        #expect(remedied.recall == nil)
        #expect(remedied.phase == .inStock)
        #expect(try inStock.record(.sell).phase == .sold)
        #expect(violation { try inStock.record(.recallRemedy) }?.rule == Rule.recallOverlay)

        // The customer's unit comes back under the recall and is recycled with the recall still open.
        try withCustomer.record(.returnAuthorize, by: "northwind", details: ["rma": "RC-RMA-2", "reason": "defective"])
        try withCustomer.record(.returnReceive)
        try withCustomer.record(.inspect, details: ["grade": "defective"])
        #expect(violation { try withCustomer.record(.restock) }?.code == .recallRestricts)
        let recycled = try withCustomer.record(.recycle)
        #expect(recycled.phase == .recycled)
        #expect(recycled.recall != nil)
    }

    @Test("a warranty claim is resolved by repair after a repair event")
    func warrantyRepair() throws {
        let parties = try TestParties.get()
        var chain = try ProductChain.inPhase(.delivered, serial: "WAR-001", parties: parties)
        let claimed = try chain.record(.warrantyClaim, by: "northwind")
        #expect(claimed.warrantyClaim?.claim == ProductChain.claim)
        #expect(claimed.counters.warrantyClaims == 1)
        let early = violation {
            try chain.record(.warrantyResolve, details: ["claim": .string(ProductChain.claim), "resolution": "repair"])
        }
        #expect(early?.rule == Rule.warrantyRepairFirst)
        let repaired = try chain.record(.repair, by: "proseware")
        #expect(repaired.phase == .warrantyRepaired)
        #expect(repaired.counters.repairs == 1)
        let wrongClaim = violation {
            try chain.record(.warrantyResolve, details: ["claim": "WC-OTHER", "resolution": "repair"])
        }
        #expect(wrongClaim?.code == .referenceMismatch)
        let resolved = try chain.record(
            .warrantyResolve,
            by: "northwind",
            details: ["claim": .string(ProductChain.claim), "resolution": "repair"]
        )
        #expect(resolved.phase == .delivered)
        #expect(resolved.warrantyClaim == nil)
        #expect(resolved.custodian == nil)
    }

    @Test("a warranty claim resolved by replacement takes the unit back and names the replacement")
    func warrantyReplacement() throws {
        let parties = try TestParties.get()
        var chain = try ProductChain.inPhase(.delivered, serial: "WAR-002", parties: parties)
        try chain.record(.warrantyClaim, by: "fabrikam")
        let replacement = try TestParties.northwindProduct("WAR-002-R")
        #expect(
            violation {
                try chain.record(
                    .warrantyResolve,
                    details: ["claim": .string(ProductChain.claim), "resolution": "replace"]
                )
            }?.code == .invalidDetails
        )
        #expect(
            violation {
                try chain.record(
                    .warrantyResolve,
                    details: [
                        "claim": .string(ProductChain.claim), "resolution": "replace",
                        "replacement": .string(chain.product.digitalLink),
                    ]
                )
            }?.code == .invalidDetails
        )
        let resolved = try chain.record(
            .warrantyResolve,
            by: "northwind",
            details: [
                "claim": .string(ProductChain.claim), "resolution": "replace",
                "replacement": .string(replacement.digitalLink),
            ]
        )
        #expect(resolved.phase == .returned)
        #expect(resolved.custodian == "northwind")
        try chain.record(.inspect, by: "northwind", details: ["grade": "defective"])
        #expect(
            try chain.record(
                .refurbish,
                details: [
                    "work": ["mainboard-replaced"], "parts": [["part": "mainboard", "serial": "MB-5521"]],
                    "tests": ["full-function"], "warrantyMonths": 6, "certified": true,
                ]
            ).phase == .refurbished
        )
    }

    @Test("a trade-in is refurbished by an accredited refurbisher and resold as certified pre-owned")
    func tradeInRefurbishResell() throws {
        let parties = try TestParties.get()
        var chain = try ProductChain.inPhase(.delivered, serial: "TRD-001", parties: parties)
        let traded = try chain.record(.tradeIn, by: "tailspin", details: ["credit": 15_000, "currency": "EUR"])
        #expect(traded.phase == .tradedIn)
        #expect(traded.custodian == "tailspin")
        try chain.record(.returnReceive, by: "litware")
        try chain.record(.inspect, by: "litware", details: ["grade": "fair", "findings": ["screen-scratched"]])
        let refurbished = try chain.record(.refurbish, by: "proseware")
        #expect(refurbished.certifiedRefurbished)
        #expect(refurbished.refurbishedWarrantyMonths == 12)
        #expect(refurbished.counters.refurbishments == 1)
        let details = try RefurbishDetails(try #require(chain.history.last).statement)
        #expect(details.certified && details.warrantyMonths == 12 && details.softwareVersion == "4.2.1")
        #expect(details.parts.isEmpty && details.tests == ["battery-health", "display"])
        let resold = try chain.record(
            .resell,
            by: "tailspin",
            details: ["orderDigest": .string(TestParties.saltedDigest("order-9")), "certifiedPreOwned": true]
        )
        #expect(resold.phase == .sold)
        #expect(resold.sale?.preOwned == true)
        #expect(resold.sale?.certifiedPreOwned == true)
        #expect(resold.sale?.retailer == "tailspin")
        let sale = try SaleDetails(try #require(chain.history.last).statement)
        #expect(sale.isResale && sale.certifiedPreOwned)
    }

    @Test("a lease goes out from stock and comes back through lease-return")
    func leaseOutAndReturn() throws {
        let parties = try TestParties.get()
        var chain = try ProductChain.inPhase(.inStock, serial: "LEA-001", parties: parties)
        let leased = try chain.record(.leaseOut, by: "fabrikam")
        #expect(leased.phase == .leased)
        #expect(leased.lease?.lessor == "fabrikam")
        #expect(leased.custodian == nil)
        #expect(violation { try chain.record(.returnReceive) }?.rule == Rule.returnNeedsSale)
        #expect(
            violation {
                try chain.record(
                    .leaseReturn,
                    details: ["condition": "used", "leaseDigest": .string(TestParties.saltedDigest("x"))]
                )
            }?.code == .referenceMismatch
        )
        let back = try chain.record(.leaseReturn, by: "litware")
        #expect(back.phase == .returned)
        #expect(back.lease == nil)
        #expect(back.counters.returns == 1)
        try chain.record(.inspect)
        try chain.record(.refurbish)
        #expect(try chain.record(.leaseOut, by: "northwind").phase == .leased)
    }

    @Test("excess inventory is donated as a pallet, and nothing but end of life follows")
    func excessDonated() throws {
        let parties = try TestParties.get()
        var chains = try (1...3).map { try ProductChain.inPhase(.inStock, serial: "EXC-00\($0)", parties: parties) }
        let members = try chains.map { BatchMember(product: $0.product, previous: try #require($0.head)) }
        let alpine = parties.signer("alpine")
        let donation = try SignedStatement.sign(
            try Statement(
                type: .excessDisposition,
                product: nil,
                previous: nil,
                batch: BatchMember.commitment(for: members),
                signer: TestParties.fingerprint(alpine),
                time: chains.map(\.clock).max() ?? TestParties.start,
                details: ["action": "donate", "reference": "DON-2025-12"]
            ),
            with: alpine.privateKey,
            members: members
        )
        for index in chains.indices {
            let state = try chains[index].apply(member: donation)
            #expect(state.phase == .donated)
            #expect(state.custodian == nil)
        }
        #expect(violation { try chains[0].record(.sell) }?.rule == Rule.stateTable)
        #expect(violation { try chains[0].record(.returnAuthorize) }?.rule == Rule.returnNeedsSale)
        #expect(try chains[0].record(.recycle).phase == .recycled)

        var redistributed = try ProductChain.inPhase(.inStock, serial: "EXC-010", parties: parties)
        let moving = try redistributed.record(
            .excessDisposition,
            details: ["action": "redistribute", "consignee": "tailspin"]
        )
        #expect(moving.phase == .inTransit)
        #expect(violation { try redistributed.record(.receive, by: "fabrikam") }?.code == .wrongConsignee)
        #expect(try redistributed.record(.receive, by: "tailspin").custodian == "tailspin")
    }

    @Test("a pallet is recycled with one certificate by an accredited recycler; the product can never be sold again")
    func recyclingWithCertificate() throws {
        let parties = try TestParties.get()
        var chains = try (1...4).map { try ProductChain.inPhase(.inspected, serial: "RCY-00\($0)", parties: parties) }
        let members = try chains.map { BatchMember(product: $0.product, previous: try #require($0.head)) }
        let adatum = parties.signer("adatum")
        let certificate = try SignedStatement.sign(
            try Statement(
                type: .recycle,
                product: nil,
                previous: nil,
                batch: BatchMember.commitment(for: members),
                signer: TestParties.fingerprint(adatum),
                time: chains.map(\.clock).max() ?? TestParties.start,
                location: "9520005000016",
                details: [
                    "certificate": "WEE/AA0001AA/COR-2025-311", "method": "mechanical-shredding",
                    "materials": ["aluminium": 620, "copper": 180, "plastic": 410, "glass": 220],
                ]
            ),
            with: adatum.privateKey,
            members: members
        )
        let recycle = try RecycleDetails(certificate.statement)
        #expect(recycle.certificate == "WEE/AA0001AA/COR-2025-311")
        #expect(recycle.totalGrams == 1430)
        for index in chains.indices {
            let state = try chains[index].apply(member: certificate)
            #expect(state.phase == .recycled)
            #expect(state.custodian == "adatum")
        }
        for type in [EventType.sell, .resell, .returnReceive, .restock, .ship, .recall] {
            let refused = violation { try chains[0].record(type) }
            #expect(refused?.code == .terminal, "\(type) after recycling")
            #expect(refused?.rule == Rule.terminal)
        }
    }

    @Test("a returned unit beyond repair is disposed of; disposal is terminal")
    func disposal() throws {
        let parties = try TestParties.get()
        var chain = try ProductChain.inPhase(.returned, serial: "DSP-001", parties: parties)
        try chain.record(.inspect, details: ["grade": "beyond-repair"])
        #expect(violation { try chain.record(.restock) }?.code == .conditionRestricts)
        let disposed = try chain.record(
            .dispose,
            by: "litware",
            details: ["method": "shredding", "certificate": "DST-88"]
        )
        #expect(disposed.phase == .disposed)
        #expect(violation { try chain.record(.inspect) }?.code == .terminal)
    }

    @Test("a stolen unit is refused everything but its recovery at a dock")
    func stolenAndRecovered() throws {
        let parties = try TestParties.get()
        var chain = try ProductChain.inPhase(.inStock, serial: "STL-001", parties: parties)
        try chain.record(.reportLost, by: "fabrikam")
        #expect(chain.state?.missing?.kind == "lost")
        #expect(violation { try chain.record(.reportLost) }?.code == .missingRestricts)
        let stolen = try chain.record(.reportStolen, by: "fabrikam")
        #expect(stolen.missing?.kind == "stolen")
        #expect(violation { try chain.record(.reportStolen) }?.code == .missingRestricts)
        let refused = violation { try chain.record(.sell) }
        #expect(refused?.code == .missingRestricts)
        #expect(refused?.rule == Rule.missingRestricts)
        #expect(violation { try chain.record(.ship) }?.code == .missingRestricts)
        let recovered = try chain.record(
            .returnReceive,
            by: "litware",
            details: [
                "condition": "damaged", "scanned": .string(chain.product.digitalLink),
            ]
        )
        #expect(recovered.phase == .returned)
        #expect(recovered.missing == nil)
    }
}
