import CanonicalJSON
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceRules
import Testing

/// The lifecycle rules other than the state table and roles, one refusal (and its legal twin) each.
struct LifecycleRuleTests {
    func violation(_ body: () throws -> Void) -> RuleViolation? {
        do { try body() } catch let error as RuleViolation { return error } catch { return nil }
        return nil
    }

    @Test("L4: a brand owner commissions only GTINs under its own company prefixes")
    func commissionUnderOwnPrefix() throws {
        let parties = try TestParties.get()
        var foreign = ProductChain(try TestParties.northwindProduct("PFX-1"), parties: parties)
        let refused = violation { try foreign.record(.commission, by: "contoso") }
        #expect(refused?.code == .prefixNotOwned)
        #expect(refused?.rule == Rule.ownPrefix)
        #expect(refused?.product == foreign.product.digitalLink)
        var own = ProductChain(try TestParties.contosoProduct("PFX-1"), parties: parties)
        #expect(try own.record(.commission, by: "contoso").brandOwner == "contoso")
    }

    @Test("L4: a brand owner recalls and handles warranty only for its own products")
    func ownProductsOnly() throws {
        let parties = try TestParties.get()
        var chain = try ProductChain.inPhase(.delivered, serial: "PFX-2", parties: parties)
        #expect(violation { try chain.record(.recall, by: "contoso") }?.code == .prefixNotOwned)
        #expect(violation { try chain.record(.warrantyClaim, by: "contoso") }?.code == .prefixNotOwned)
        #expect(violation { try chain.record(.returnAuthorize, by: "contoso") }?.code == .prefixNotOwned)
        #expect(try chain.record(.warrantyClaim, by: "northwind").phase == .warrantyClaimed)
    }

    @Test("L12: a retailer authorises returns only for its own sales (wrong channel); the brand owner for any")
    func wrongChannel() throws {
        let parties = try TestParties.get()
        var chain = try ProductChain.inPhase(.delivered, serial: "CHN-1", parties: parties)
        #expect(chain.state?.sale?.retailer == "fabrikam")
        let refused = violation { try chain.record(.returnAuthorize, by: "tailspin") }
        #expect(refused?.code == .wrongChannel)
        #expect(refused?.rule == Rule.wrongChannel)
        #expect(violation { try chain.record(.warrantyClaim, by: "tailspin") }?.code == .wrongChannel)
        #expect(try chain.record(.returnAuthorize, by: "northwind").phase == .returnAuthorized)
    }

    @Test("L8: an event may be dated up to the clock skew before the chain's last event, not more")
    func timeOrder() throws {
        let parties = try TestParties.get()
        var chain = try ProductChain.inPhase(.inTransit, serial: "TIME-1", parties: parties)
        let last = try #require(chain.state?.lastEventTime)
        let refused = violation { try chain.record(.receive, at: last.adding(seconds: -Lifecycle.clockSkew - 1)) }
        #expect(refused?.code == .timeGoesBackwards)
        #expect(refused?.rule == Rule.timeOrder)
        let state = try chain.record(.receive, at: last.adding(seconds: -Lifecycle.clockSkew))
        #expect(state.lastEventTime == last, "the chain keeps the latest time, so skew cannot accumulate")
        #expect(
            violation { try chain.record(.sell, at: last.adding(seconds: -Lifecycle.clockSkew - 1)) }?
                .code == .timeGoesBackwards
        )
    }

    @Test("T10: a statement's location must be one of the signer's sites")
    func signerSite() throws {
        let parties = try TestParties.get()
        var chain = ProductChain(try TestParties.northwindProduct("LOC-1"), parties: parties)
        let refused = violation { try chain.record(.commission, location: "9520001000010") }
        #expect(refused?.code == .unknownLocation)
        #expect(refused?.rule == Rule.signerSite)
        #expect(try chain.record(.commission, location: "9506000000022").phase == .commissioned)
    }

    @Test("L16: recycling needs a recycling accreditation valid at the event's time")
    func recyclingAccreditation() throws {
        let parties = try TestParties.get()
        var chain = try ProductChain.inPhase(.returned, serial: "ACC-1", parties: parties)
        let afterExpiry = try Timestamp(parsing: "2031-01-15T10:00:00Z")
        let refused = violation { try chain.record(.recycle, at: afterExpiry) }
        #expect(refused?.code == .notAccredited)
        #expect(refused?.rule == Rule.accreditation)
        #expect(try chain.record(.dispose, at: afterExpiry).phase == .disposed)
    }

    @Test("L16: only an accredited refurbisher refurbishes as certified; uncertified refurbishing stays open")
    func refurbishingAccreditation() throws {
        let parties = try TestParties.get()
        var chain = try ProductChain.inPhase(.inspected, serial: "ACC-2", parties: parties)
        let afterExpiry = try Timestamp(parsing: "2031-01-15T10:00:00Z")
        #expect(violation { try chain.record(.refurbish, at: afterExpiry) }?.code == .notAccredited)
        let uncertified = try chain.record(
            .refurbish,
            details: ["work": ["cleaned"], "tests": ["power-on"], "warrantyMonths": 3, "certified": false],
            at: afterExpiry
        )
        #expect(!uncertified.certifiedRefurbished)
        // L17: then it cannot be sold as certified pre-owned.
        let resale: JSONObject = [
            "orderDigest": .string(TestParties.saltedDigest("o-5")), "certifiedPreOwned": true,
        ]
        let refused = violation { try chain.record(.resell, details: resale) }
        #expect(refused?.code == .notCertified)
        #expect(refused?.rule == Rule.certifiedResale)
        #expect(try chain.record(.resell).sale?.certifiedPreOwned == false)
    }

    @Test("L18: the identity scanned at the dock must be this product")
    func dockScan() throws {
        let parties = try TestParties.get()
        var chain = try ProductChain.inPhase(.returnAuthorized, serial: "SCAN-1", parties: parties)
        let other = try TestParties.northwindProduct("SCAN-2")
        let refused = violation {
            try chain.record(.returnReceive, details: ["condition": "sealed", "scanned": .string(other.digitalLink)])
        }
        #expect(refused?.code == .scanMismatch)
        #expect(refused?.rule == Rule.dockScan)
        #expect(
            violation {
                try chain.record(.returnReceive, details: ["condition": "sealed", "scanned": "not a barcode"])
            }?
            .code == .invalidDetails
        )
        #expect(
            violation {
                try chain.record(
                    .returnReceive,
                    details: ["condition": "sealed", "scanned": .string(chain.product.digitalLink), "rma": "RMA-9"]
                )
            }?.code == .referenceMismatch
        )
        #expect(try chain.record(.returnReceive).phase == .returned)
    }

    @Test("L14 decided (issue 16 point 10): a return-receive naming an RMA when none is open is refused")
    func rmaWithoutOpenAuthorisation() throws {
        let parties = try TestParties.get()
        // Traded in: a return-receive may follow (L6), and no return authorisation is open.
        var chain = try ProductChain.inPhase(.tradedIn, serial: "RMA-NONE-1", parties: parties)
        #expect(chain.state?.returnAuthorization == nil)
        let refused = violation {
            try chain.record(
                .returnReceive,
                details: ["condition": "sealed", "scanned": .string(chain.product.digitalLink), "rma": "RMA-0001"]
            )
        }
        #expect(refused?.code == .referenceMismatch)
        #expect(refused?.rule == Rule.referencesMatch)
        // Without an rma it is accepted; the sale stays on record (lifecycle.md §7), the grade is cleared.
        let returned = try chain.record(.returnReceive)
        #expect(returned.phase == .returned)
        #expect(returned.sale != nil)
        #expect(returned.grade == nil)
    }

    @Test("L20: a recycler cannot recover more material than the product was declared to contain")
    func massBalance() throws {
        let parties = try TestParties.get()
        var chain = ProductChain(try TestParties.northwindProduct("MASS-1"), parties: parties)
        let declared = try chain.record(
            .commission,
            details: ["massGrams": 180, "materials": ["aluminium": 40, "glass": 60]]
        )
        #expect(declared.declaredMassGrams == 180)
        #expect(declared.declaredMaterials == ["aluminium": 40, "glass": 60])
        let commission = try CommissionDetails(try #require(chain.history.first).statement)
        #expect(commission.massGrams == 180 && commission.materials["glass"] == 60)
        let refused = violation {
            try chain.record(
                .recycle,
                details: [
                    "certificate": "COR-9", "method": "smelting", "materials": ["aluminium": 150, "glass": 60],
                ]
            )
        }
        #expect(refused?.code == .massBalance)
        #expect(refused?.rule == Rule.massBalance)
        #expect(
            try chain.record(
                .recycle,
                details: [
                    "certificate": "COR-9", "method": "smelting", "materials": ["aluminium": 38, "glass": 55],
                ]
            ).phase == .recycled
        )
    }

    @Test("L15: only an as-new unit goes back to stock after inspection; a repaired unit may")
    func restockCondition() throws {
        let parties = try TestParties.get()
        var chain = try ProductChain.inPhase(.returned, serial: "RST-1", parties: parties)
        try chain.record(.inspect, details: ["grade": "good"])
        let refused = violation { try chain.record(.restock) }
        #expect(refused?.code == .conditionRestricts)
        #expect(refused?.rule == Rule.restockCondition)
        try chain.record(.repair)
        #expect(try chain.record(.restock).phase == .inStock)
    }

    @Test("L22: a single-product statement is judged only for its own product")
    func statementProduct() throws {
        let parties = try TestParties.get()
        var chain = try ProductChain.inPhase(.inTransit, serial: "PRD-1", parties: parties)
        let signed = try chain.statement(.receive, by: "fabrikam")
        let other = try TestParties.northwindProduct("PRD-2")
        let signer = try parties.trust.authenticate(signed)
        #expect {
            _ = try Lifecycle.apply(
                signed.statement,
                product: other,
                eventID: signed.id,
                state: chain.state,
                signer: signer,
                trust: parties.trust
            )
        } throws: { ($0 as? RuleViolation)?.code == .wrongProduct }
        #expect(try chain.apply(signed).phase == .inStock)
    }

    @Test("L13: unknown, missing or malformed details are refused, and personal data has nowhere to go")
    func details() throws {
        let parties = try TestParties.get()
        var chain = try ProductChain.inPhase(.inStock, serial: "DET-1", parties: parties)
        let order = JSONValue.string(TestParties.saltedDigest("order-3"))
        let cases: [JSONObject] = [
            ["orderDigest": order, "email": "jane@example.com"],
            ["orderDigest": order, "customerName": "Jane Doe"],
            [:],
            ["orderDigest": "ORDER-1234"],
            ["orderDigest": order, "channel": "phone"],
            ["orderDigest": order, "returnBy": "2025-02-30T00:00:00Z"],
            ["orderDigest": order, "returnBy": "2020-01-01T00:00:00Z"],
        ]
        for details in cases {
            let refused = violation { try chain.record(.sell, details: details) }
            #expect(refused?.code == .invalidDetails, "\(details)")
            #expect(refused?.rule == Rule.details)
        }
        #expect(violation { try chain.record(.ship, details: ["consignee": "nobody"]) }?.code == .invalidDetails)
        #expect(
            violation { try chain.record(.ship, details: ["shipment": "ASN 1 for Jane Doe"]) }?.code == .invalidDetails
        )
        #expect(
            violation { try chain.record(.ship, details: ["shipment": "jane@example.com"]) }?.code == .invalidDetails
        )
        #expect(try chain.record(.sell, details: ["orderDigest": order]).phase == .sold)
    }

    @Test("each member of a batch is judged alone: one foreign product fails the statement for that member")
    func batchMembers() throws {
        let parties = try TestParties.get()
        var own = try ProductChain.inPhase(.inStock, serial: "BAT-1", parties: parties)
        var foreign = ProductChain(try TestParties.contosoProduct("BAT-2"), parties: parties)
        try foreign.record(.commission, by: "contoso")
        let members = [
            BatchMember(product: own.product, previous: try #require(own.head)),
            BatchMember(product: foreign.product, previous: try #require(foreign.head)),
        ]
        let northwind = parties.signer("northwind")
        let recall = try SignedStatement.sign(
            try Statement(
                type: .recall,
                product: nil,
                previous: nil,
                batch: BatchMember.commitment(for: members),
                signer: TestParties.fingerprint(northwind),
                time: own.clock,
                details: ["notice": "NW-LOT-7", "reason": "quality", "remedy": "repair"]
            ),
            with: northwind.privateKey,
            members: members
        )
        #expect(try own.apply(member: recall).recall?.notice == "NW-LOT-7")
        let refused = violation { try foreign.apply(member: recall) }
        #expect(refused?.code == .prefixNotOwned)
        #expect(refused?.product == foreign.product.digitalLink)
        let recallDetails = try RecallDetails(recall.statement)
        #expect(recallDetails.notice == "NW-LOT-7" && recallDetails.remedy == "repair")
    }

    @Test("an event signed by a key retired or revoked before its time is refused before any lifecycle rule")
    func revokedSignerInChain() throws {
        let parties = try TestParties.get()
        var chain = try ProductChain.inPhase(.inStock, serial: "REV-1", parties: parties)
        let revokedAt = chain.clock
        let document = try RosterDocument(
            governance: parties.roster.governance,
            parties: parties.roster.parties,
            revocations: [Revocation(key: parties.signer("fabrikam").verifier, time: revokedAt, reason: .keyCompromise)]
        )
        chain.trust = try chain.trust.applying(
            roster: try TestParties.rosterStatement(
                document,
                previous: chain.trust.rosterID,
                by: parties.governance,
                at: revokedAt
            )
        )
        let refused = violation { try chain.record(.sell, by: "fabrikam") }
        #expect(refused?.code == .keyRevoked)
        #expect(try chain.record(.sell, by: "tailspin").sale?.retailer == "tailspin")
    }
}
