import RetraceEvents
import RetraceRules
import Testing

/// Every event type signed by every role the catalogue does not allow for it (rule `L3 role`).
struct RoleTests {
    /// spec/lifecycle.md §2, written out independently of the implementation.
    static let expectedRoles: [String: Set<String>] = [
        "commission": ["brand-owner"],
        "ship": ["brand-owner", "distributor", "retailer", "returns-centre"],
        "receive": ["brand-owner", "distributor", "retailer", "returns-centre"],
        "sell": ["retailer"],
        "deliver": ["carrier"],
        "delivery-failed": ["carrier"],
        "return-authorize": ["retailer", "brand-owner"],
        "return-receive": ["returns-centre", "retailer"],
        "inspect": ["returns-centre", "refurbisher", "brand-owner"],
        "restock": ["returns-centre", "retailer", "distributor", "brand-owner"],
        "repair": ["refurbisher", "brand-owner"],
        "refurbish": ["refurbisher"],
        "resell": ["retailer"],
        "warranty-claim": ["brand-owner", "retailer"],
        "warranty-resolve": ["brand-owner", "retailer"],
        "trade-in": ["retailer", "brand-owner", "refurbisher"],
        "lease-out": ["retailer", "brand-owner"],
        "lease-return": ["returns-centre", "retailer", "brand-owner"],
        "excess-disposition": ["brand-owner", "retailer", "distributor", "returns-centre"],
        "recall": ["brand-owner"],
        "recall-remedy": ["brand-owner", "refurbisher"],
        "report-stolen": [
            "brand-owner", "distributor", "carrier", "retailer", "returns-centre", "refurbisher", "recycler",
        ],
        "report-lost": [
            "brand-owner", "distributor", "carrier", "retailer", "returns-centre", "refurbisher", "recycler",
        ],
        "recycle": ["recycler"],
        "dispose": ["recycler", "brand-owner", "returns-centre"],
    ]

    /// The test party that holds exactly this one role.
    static let partyWithRole: [String: String] = [
        "brand-owner": "northwind", "distributor": "alpine", "carrier": "wingtip", "retailer": "fabrikam",
        "returns-centre": "litware", "refurbisher": "proseware", "recycler": "adatum", "auditor": "woodgrove",
    ]

    struct Case: Sendable, CustomTestStringConvertible {
        let event: EventType
        let role: Role
        var testDescription: String { "\(event) signed by a \(role)" }
    }

    static let wrongRoleCases: [Case] = EventType.productEvents.flatMap { event in
        Role.all.filter { !(expectedRoles[event.name] ?? []).contains($0.name) }.map { Case(event: event, role: $0) }
    }

    /// A phase in which `event` is legal, so that the role is the only thing wrong.
    static func phase(for event: EventType) -> Phase? {
        switch event {
        case .commission: nil
        case .recallRemedy: .inStock
        default: Phase.all.first { Lifecycle.next(from: $0, on: event) != nil }
        }
    }

    @Test("the catalogue's roles are the spec's")
    func rolesMatch() {
        for entry in Catalogue.entries {
            #expect(Set(entry.roles.map(\.name)) == Self.expectedRoles[entry.type.name], "\(entry.type)")
        }
        #expect(Catalogue.entries.count == EventType.productEvents.count)
    }

    @Test("each test party holds exactly the role it stands for")
    func partiesHoldOneRole() throws {
        let parties = try TestParties.get()
        for (role, id) in Self.partyWithRole {
            #expect(parties.party(id).roles.map(\.name) == [role])
        }
    }

    @Test("an event signed by a role the catalogue does not allow is refused", arguments: wrongRoleCases)
    func wrongRole(_ item: Case) throws {
        let parties = try TestParties.get()
        let party = try #require(Self.partyWithRole[item.role.name])
        let serial = "WR-\(EventType.all.firstIndex(of: item.event) ?? 0)-\(Role.all.firstIndex(of: item.role) ?? 0)"
        var chain: ProductChain
        if let phase = Self.phase(for: item.event) {
            chain = try ProductChain.inPhase(phase, serial: serial, parties: parties)
            if item.event == .recallRemedy { try chain.record(.recall) }
        } else {
            chain = ProductChain(try TestParties.northwindProduct(serial), parties: parties)
        }
        // The right role is accepted in the same state (so the refusal below is about the role alone).
        var control = chain
        #expect(throws: Never.self) { try control.record(item.event) }
        #expect {
            try chain.record(item.event, by: party)
        } throws: { error in
            guard let violation = error as? RuleViolation else { return false }
            return violation.code == .wrongRole && violation.rule == Rule.role
                && violation.product == chain.product.digitalLink
        }
    }

    @Test("an auditor can sign nothing")
    func auditorSignsNothing() {
        for entry in Catalogue.entries { #expect(!entry.roles.contains(.auditor)) }
    }
}
