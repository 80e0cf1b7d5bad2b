import CanonicalJSON
import RetraceEvents
import RetraceIdentity

/// The lifecycle rules: which event may follow which, signed by whom, and what it leaves behind.
///
/// Pure functions over values: the ledger passes the product's state at its chain head and the
/// signer's party, and stores the returned state; nothing here reads storage or the clock. A batch
/// statement is judged once per member, as if it were about that product alone.
public enum Lifecycle {
    /// How far an event may be dated before the latest event of its product's chain, in seconds:
    /// parties' clocks differ, and a dock scan may be signed a moment before the warehouse's receipt.
    public static let clockSkew: Int64 = 300

    /// One row of the state table: in phase ``from``, event ``event`` leads to one of ``to``
    /// (more than one only where the details choose, e.g. a warranty resolution).
    public struct Transition: Hashable, Sendable {
        public let from: Phase
        public let event: EventType
        public let to: [Phase]
    }

    /// Events that overlay any non-terminal phase without changing it (recall, theft or loss
    /// reports); their own conditions are rules `L10` and `L11`.
    public static let overlayEvents: [EventType] = [.recall, .recallRemedy, .reportStolen, .reportLost]

    /// Events an active recall forbids: each would put the product back into circulation (`L9`).
    public static let recallRestricted: Set<EventType> = [.sell, .resell, .restock, .leaseOut, .excessDisposition]

    /// Events still allowed while a product is reported stolen or lost (`L11`): its recovery at a
    /// dock, and the overlays that concern it.
    public static let allowedWhileMissing: Set<EventType> = [.returnReceive, .recall, .recallRemedy, .reportStolen]

    /// The state table for phase-changing events (every type but `commission`, `roster` and the
    /// overlay events). Anything not listed is refused with `L5`, `L6` or `L7`.
    public static let transitions: [Transition] = {
        func row(_ from: Phase, _ moves: [(EventType, [Phase])]) -> [Transition] {
            moves.map { Transition(from: from, event: $0.0, to: $0.1) }
        }
        let endOfLife: [(EventType, [Phase])] = [(.recycle, [.recycled]), (.dispose, [.disposed])]
        return row(.commissioned, [(.ship, [.inTransit])] + endOfLife)
            + row(.inTransit, [(.receive, [.inStock])])
            + row(
                .inStock,
                [
                    (.ship, [.inTransit]), (.sell, [.sold]), (.leaseOut, [.leased]),
                    (.excessDisposition, [.inTransit, .liquidated, .donated]),
                ] + endOfLife
            )
            + row(
                .sold,
                [
                    (.ship, [.outForDelivery]), (.returnAuthorize, [.returnAuthorized]),
                    (.warrantyClaim, [.warrantyClaimed]), (.tradeIn, [.tradedIn]),
                ] + endOfLife
            )
            + row(.outForDelivery, [(.deliver, [.delivered]), (.deliveryFailed, [.deliveryFailed])])
            + row(
                .delivered,
                [
                    (.returnAuthorize, [.returnAuthorized]), (.warrantyClaim, [.warrantyClaimed]),
                    (.tradeIn, [.tradedIn]),
                ] + endOfLife
            )
            + row(
                .deliveryFailed,
                [(.ship, [.outForDelivery]), (.returnAuthorize, [.returnAuthorized]), (.returnReceive, [.returned])]
            )
            + row(.returnAuthorized, [(.returnReceive, [.returned])])
            + row(.returned, [(.inspect, [.inspected])] + endOfLife)
            + row(
                .inspected,
                [
                    (.inspect, [.inspected]), (.restock, [.inStock]), (.repair, [.repaired]),
                    (.refurbish, [.refurbished]), (.warrantyClaim, [.warrantyClaimed]),
                ] + endOfLife
            )
            + row(
                .repaired,
                [(.inspect, [.inspected]), (.restock, [.inStock]), (.refurbish, [.refurbished])] + endOfLife
            )
            + row(.warrantyClaimed, [(.repair, [.warrantyRepaired]), (.warrantyResolve, [.delivered, .returned])])
            + row(.warrantyRepaired, [(.warrantyResolve, [.delivered, .returned])])
            + row(.refurbished, [(.inspect, [.inspected]), (.resell, [.sold]), (.leaseOut, [.leased])] + endOfLife)
            + row(.tradedIn, [(.returnReceive, [.returned])] + endOfLife)
            + row(.leased, [(.leaseReturn, [.returned])])
            + row(.liquidated, endOfLife)
            + row(.donated, endOfLife)
    }()

    private static let table: [Phase: [EventType: [Phase]]] = {
        var table: [Phase: [EventType: [Phase]]] = [:]
        for transition in transitions { table[transition.from, default: [:]][transition.event] = transition.to }
        return table
    }()

    /// The phases `event` may lead to from `phase`, or `nil` if the state table forbids it there.
    /// Overlay events answer `[phase]` in every non-terminal phase.
    public static func next(from phase: Phase, on event: EventType) -> [Phase]? {
        if overlayEvents.contains(event) { return phase.isTerminal ? nil : [phase] }
        return table[phase]?[event]
    }

    /// The event types the state table allows in `phase` (before overlays, roles and details).
    public static func allowedEvents(in phase: Phase) -> [EventType] {
        EventType.all.filter { next(from: phase, on: $0) != nil }
    }

    /// The rule that refuses `event` in `phase` when the state table does not list it.
    public static func ruleRefusing(_ event: EventType, in phase: Phase) -> String {
        if phase.isTerminal { return Rule.terminal }
        if event == .returnAuthorize || event == .returnReceive { return Rule.returnNeedsSale }
        return Rule.stateTable
    }

    // MARK: Product classes

    /// Judges a `product-class` statement: its details (`L13`), its signer's role (`L3`) and that
    /// the GTIN is under one of the signer's company prefixes (`L4`), as for a `commission`.
    ///
    /// The class chain itself (`previous` is the GTIN's current class head, `C1`) is the caller's:
    /// it holds no product state, so nothing here depends on the chain.
    /// - Returns: the details read.
    /// - Throws: a ``RuleViolation`` naming the rule; `notAnEvent` for any other type.
    public static func judgeClass(_ statement: Statement, signer: Party) throws(RuleViolation) -> ProductClassDetails {
        do {
            return try judgeClassStatement(statement, signer: signer)
        } catch {
            guard error.product == nil, let gtin = statement.classGTIN else { throw error }
            throw error.about(Statement.classChain(gtin: gtin))
        }
    }

    private static func judgeClassStatement(
        _ statement: Statement,
        signer: Party
    ) throws(RuleViolation) -> ProductClassDetails {
        guard statement.type == .productClass else {
            throw RuleViolation(
                .notAnEvent,
                rule: Rule.statementProduct,
                "a \(statement.type) statement is no product class"
            )
        }
        let details = try ProductClassDetails(statement)
        let entry = Catalogue.productClass
        guard !signer.roles.intersection(entry.roles).isEmpty else {
            let held = signer.roles.sorted().map(\.name).joined(separator: ", ")
            throw RuleViolation(
                .wrongRole,
                rule: Rule.role,
                "product-class is recorded by brand-owner; \(signer.id) is \(held)"
            )
        }
        guard let gtin = try? GTIN(details.gtin), signer.owns(gtin) else {
            throw RuleViolation(
                .prefixNotOwned,
                rule: Rule.ownPrefix,
                "GTIN \(details.gtin) is not under a company prefix of \(signer.id) "
                    + "(\(signer.companyPrefixes.joined(separator: ", ")))"
            )
        }
        return details
    }

    // MARK: Judging one event

    /// Judges one event about `product` (the statement's product, or one member of a batch
    /// statement) against the product's current state and returns the state after it.
    ///
    /// - Parameters:
    ///   - state: the state at the product's chain head, `nil` if it was never commissioned.
    ///   - signer: the party ``TrustState/authenticate(_:)`` resolved for the statement.
    ///   - trust: the trust state in force at the statement's log position (for party references).
    /// - Throws: a ``RuleViolation`` naming the rule and the product.
    public static func apply(
        _ statement: Statement,
        product: SGTIN,
        eventID: Digest,
        state: ProductState?,
        signer: Party,
        trust: TrustState
    ) throws(RuleViolation) -> ProductState {
        let key = product.digitalLink
        do {
            return try judge(statement, product: product, eventID: eventID, state: state, signer: signer, trust: trust)
        } catch {
            throw error.product == nil ? error.about(key) : error
        }
    }

    private static func judge(
        _ statement: Statement,
        product: SGTIN,
        eventID: Digest,
        state: ProductState?,
        signer: Party,
        trust: TrustState
    ) throws(RuleViolation) -> ProductState {
        let type = statement.type
        guard let entry = Catalogue.entry(for: type) else {
            throw RuleViolation(.notAnEvent, rule: Rule.statementProduct, "a roster statement is not a product event")
        }
        if statement.batch == nil {
            guard statement.product == product else {
                throw RuleViolation(
                    .wrongProduct,
                    rule: Rule.statementProduct,
                    "the statement is about \(statement.product?.digitalLink ?? "no product"), not this product"
                )
            }
        }
        try Catalogue.validate(statement)
        try checkPartyReferences(statement, trust: trust)

        // Who may sign (L3, L4, T10).
        // Asked of the two sets, not of their intersection: building it was a set allocated per
        // judged event (issue 15).
        guard !signer.roles.isDisjoint(with: entry.roles) else {
            let allowed = entry.roles.sorted().map(\.name).joined(separator: ", ")
            let held = signer.roles.sorted().map(\.name).joined(separator: ", ")
            throw RuleViolation(
                .wrongRole,
                rule: Rule.role,
                "\(type) is recorded by \(allowed); \(signer.id) is \(held)"
            )
        }
        let gtin = product.gtin.digits
        let ownsProduct = signer.has(.brandOwner) && signer.owns(product.gtin)
        let qualifiesOnlyAsBrandOwner = entry.roles.allSatisfy { $0 == .brandOwner || !signer.roles.contains($0) }
        if qualifiesOnlyAsBrandOwner, !ownsProduct {
            throw RuleViolation(
                .prefixNotOwned,
                rule: Rule.ownPrefix,
                "GTIN \(gtin) is not under a company prefix of \(signer.id) "
                    + "(\(signer.companyPrefixes.joined(separator: ", ")))"
            )
        }
        if let location = statement.location, !signer.locations.contains(location) {
            throw RuleViolation(
                .unknownLocation,
                rule: Rule.signerSite,
                "location \(location) is not a site of \(signer.id) in the roster"
            )
        }

        // The start of a chain (L1, L2).
        guard let state else {
            guard type == .commission else {
                throw RuleViolation(
                    .notCommissioned,
                    rule: Rule.commissionedFirst,
                    "the product was never commissioned"
                )
            }
            return commission(statement, eventID: eventID, gtin: gtin, signer: signer)
        }
        guard type != .commission else {
            throw RuleViolation(
                .alreadyCommissioned,
                rule: Rule.commissionOnce,
                "the serial was commissioned already (passport \(state.passport.short)); a serial is commissioned once"
            )
        }

        // Where the product stands (L7, L8, L11, L10, L5/L6, L9).
        guard !state.phase.isTerminal else {
            throw RuleViolation(
                .terminal,
                rule: Rule.terminal,
                "the product was \(state.phase) (\(state.head.short)); nothing may follow"
            )
        }
        guard statement.time.secondsSinceEpoch >= state.lastEventTime.secondsSinceEpoch - clockSkew else {
            throw RuleViolation(
                .timeGoesBackwards,
                rule: Rule.timeOrder,
                "the event is dated \(statement.time), before the product's last event (\(state.lastEventTime)) "
                    + "by more than \(clockSkew) s"
            )
        }
        if let missing = state.missing {
            let recovery = type == .returnReceive
            let upgrade = type == .reportStolen && missing.kind == "lost"
            guard recovery || upgrade || type == .recall || type == .recallRemedy else {
                throw RuleViolation(
                    .missingRestricts,
                    rule: Rule.missingRestricts,
                    "the product was reported \(missing.kind) at \(missing.time) by \(missing.reportedBy); "
                        + "only its recovery at a dock (return-receive) may follow"
                )
            }
        }
        try checkOverlay(statement, state: state)
        let isRecovery = state.missing != nil && type == .returnReceive
        let outcomes: [Phase]? = isRecovery ? [.returned] : next(from: state.phase, on: type)
        guard let outcomes else {
            let rule = ruleRefusing(type, in: state.phase)
            let allowed = allowedEvents(in: state.phase).map(\.name).joined(separator: ", ")
            let reason =
                rule == Rule.returnNeedsSale
                ? "\(type) needs a sale, failed delivery, trade-in or lease first; the product is \(state.phase)"
                : "\(type) is not allowed when the product is \(state.phase) (allowed: \(allowed))"
            throw RuleViolation(.illegalTransition, rule: rule, reason)
        }
        if let recall = state.recall, recallRestricted.contains(type) {
            throw RuleViolation(
                .recallRestricts,
                rule: Rule.recallRestricts,
                "recall \(recall.notice) (\(recall.reason), remedy \(recall.remedy)) is active; "
                    + "\(type) would put the product back into circulation before a recall-remedy"
            )
        }

        return try advance(
            state,
            statement: statement,
            eventID: eventID,
            outcomes: outcomes,
            signer: signer,
            ownsProduct: ownsProduct,
            product: product
        )
    }

    private static func commission(_ statement: Statement, eventID: Digest, gtin: String, signer: Party) -> ProductState
    {
        var state = ProductState(
            phase: .commissioned,
            brandOwner: signer.id,
            passport: eventID,
            gtin: gtin,
            time: statement.time
        )
        state.declaredMassGrams = statement.details["massGrams"]?.integerValue
        if case .object(let materials)? = statement.details["materials"] {
            for (name, grams) in materials { state.declaredMaterials[name] = grams.integerValue ?? 0 }
        }
        return state
    }

    /// Detail members that name parties must name parties of the roster in force (`L13`).
    private static func checkPartyReferences(_ statement: Statement, trust: TrustState) throws(RuleViolation) {
        for field in ["consignee", "carrier"] {
            guard case .string(let id)? = statement.details[field] else { continue }
            guard trust.party(id: id) != nil else {
                throw RuleViolation(
                    .invalidDetails,
                    rule: Rule.details,
                    "statement.details.\(field): \"\(id)\" is not a party of the roster in force"
                )
            }
        }
    }

    /// The recall and theft/loss overlay conditions (`L10`, `L11`).
    private static func checkOverlay(_ statement: Statement, state: ProductState) throws(RuleViolation) {
        switch statement.type {
        case .recall:
            if let recall = state.recall {
                throw RuleViolation(
                    .illegalTransition,
                    rule: Rule.recallOverlay,
                    "recall \(recall.notice) is already active; remedy it before another recall"
                )
            }
        case .recallRemedy:
            guard let recall = state.recall else {
                throw RuleViolation(.illegalTransition, rule: Rule.recallOverlay, "no recall is active to remedy")
            }
            let notice = statement.details["notice"]?.stringValue
            guard notice == recall.notice else {
                throw RuleViolation(
                    .referenceMismatch,
                    rule: Rule.referencesMatch,
                    "the remedy names recall \(notice ?? "none"); the active recall is \(recall.notice)"
                )
            }
        case .reportStolen:
            if state.missing?.kind == "stolen" {
                throw RuleViolation(
                    .missingRestricts,
                    rule: Rule.missingRestricts,
                    "the product is already reported stolen"
                )
            }
        case .reportLost:
            if let missing = state.missing {
                throw RuleViolation(
                    .missingRestricts,
                    rule: Rule.missingRestricts,
                    "the product is already reported \(missing.kind)"
                )
            }
        default:
            break
        }
    }

    /// Event-specific checks, then the new state.
    private static func advance(
        _ old: ProductState,
        statement: Statement,
        eventID: Digest,
        outcomes: [Phase],
        signer: Party,
        ownsProduct: Bool,
        product: SGTIN
    ) throws(RuleViolation) -> ProductState {
        let details = statement.details
        let time = statement.time
        func string(_ key: String) -> String? { details[key]?.stringValue }
        func digest(_ key: String) -> Digest? { string(key).flatMap { try? Digest(hex: $0, field: key) } }
        func timestamp(_ key: String) -> Timestamp? { string(key).flatMap { try? Timestamp(parsing: $0) } }

        var state = old
        state.phase = outcomes[0]
        state.head = eventID
        state.lastEventType = statement.type
        state.lastEventTime = max(old.lastEventTime, time)

        switch statement.type {
        case .ship:
            state.consignee = string("consignee")

        case .receive:
            if let consignee = old.consignee, consignee != signer.id {
                throw RuleViolation(
                    .wrongConsignee,
                    rule: Rule.receiveByConsignee,
                    "the product was shipped to \(consignee); \(signer.id) may not receive it"
                )
            }
            state.consignee = nil
            state.custodian = signer.id

        case .sell, .resell:
            let certified = details["certifiedPreOwned"]?.boolValue ?? false
            if certified, !old.certifiedRefurbished {
                throw RuleViolation(
                    .notCertified,
                    rule: Rule.certifiedResale,
                    "the product was not refurbished by an accredited refurbisher; "
                        + "it cannot be sold as certified pre-owned"
                )
            }
            guard let order = digest("orderDigest") else {
                throw RuleViolation(.invalidDetails, rule: Rule.details, "statement.details.orderDigest is missing")
            }
            state.sale = ProductState.Sale(
                retailer: signer.id,
                time: time,
                orderDigest: order,
                customerDigest: digest("customerDigest"),
                returnBy: timestamp("returnBy"),
                preOwned: statement.type == .resell,
                certifiedPreOwned: certified
            )
            state.counters.sales += 1
            state.custodian = nil
            state.returnAuthorization = nil
            state.grade = nil

        case .deliver:
            state.custodian = nil

        case .deliveryFailed:
            state.custodian = signer.id

        case .returnAuthorize:
            try checkChannel(old, signer: signer, ownsProduct: ownsProduct, action: "authorise a return")
            state.returnAuthorization = ProductState.ReturnAuthorization(
                rma: string("rma") ?? "",
                reason: string("reason") ?? "",
                authorizedBy: signer.id,
                time: time
            )

        case .returnReceive:
            let scanned = string("scanned") ?? ""
            let scan: ProductScan
            do { scan = try IdentityParser.parse(scanned) } catch {
                throw RuleViolation(
                    .invalidDetails,
                    rule: Rule.details,
                    "statement.details.scanned: not a product identity: \(error)"
                )
            }
            guard scan.sgtin == product else {
                throw RuleViolation(
                    .scanMismatch,
                    rule: Rule.dockScan,
                    "the dock scanned \(scan.sgtin.digitalLink), not this product"
                )
            }
            if let rma = string("rma"), rma != old.returnAuthorization?.rma {
                throw RuleViolation(
                    .referenceMismatch,
                    rule: Rule.referencesMatch,
                    "RMA \(rma) is not the open return authorisation (\(old.returnAuthorization?.rma ?? "none"))"
                )
            }
            state.returnAuthorization = nil
            state.missing = nil
            state.custodian = signer.id
            state.grade = nil
            state.counters.returns += 1

        case .inspect:
            state.grade = string("grade")
            state.custodian = signer.id

        case .restock:
            if old.phase == .inspected, old.grade != "as-new" {
                throw RuleViolation(
                    .conditionRestricts,
                    rule: Rule.restockCondition,
                    "the product was graded \(old.grade ?? "nothing"); only an as-new unit (or a repaired one) "
                        + "goes back to stock, others are repaired, refurbished or recycled"
                )
            }
            state.custodian = signer.id
            state.sale = nil
            state.grade = nil

        case .repair:
            state.phase = old.phase == .warrantyClaimed ? .warrantyRepaired : .repaired
            state.custodian = signer.id
            state.counters.repairs += 1

        case .refurbish:
            let certified = details["certified"]?.boolValue ?? false
            if certified, signer.refurbishingAccreditation(at: time) == nil {
                throw RuleViolation(
                    .notAccredited,
                    rule: Rule.accreditation,
                    "\(signer.id) holds no refurbishing accreditation (R2v3, e-Stewards) valid at \(time); "
                        + "it may refurbish, but not as certified"
                )
            }
            state.certifiedRefurbished = certified
            state.refurbishedWarrantyMonths = details["warrantyMonths"]?.integerValue
            state.custodian = signer.id
            state.grade = nil
            state.sale = nil
            state.counters.refurbishments += 1

        case .warrantyClaim:
            try checkChannel(old, signer: signer, ownsProduct: ownsProduct, action: "open a warranty claim")
            state.warrantyClaim = ProductState.WarrantyClaim(
                claim: string("claim") ?? "",
                openedBy: signer.id,
                time: time
            )
            state.counters.warrantyClaims += 1

        case .warrantyResolve:
            let claim = string("claim")
            guard let open = old.warrantyClaim, claim == open.claim else {
                throw RuleViolation(
                    .referenceMismatch,
                    rule: Rule.referencesMatch,
                    "claim \(claim ?? "none") is not the open warranty claim (\(old.warrantyClaim?.claim ?? "none"))"
                )
            }
            let resolution = string("resolution")
            if resolution == "repair", old.phase == .warrantyClaimed {
                throw RuleViolation(
                    .illegalTransition,
                    rule: Rule.warrantyRepairFirst,
                    "a claim is resolved by repair only after a repair event under it"
                )
            }
            if resolution == "replace", string("replacement") == product.digitalLink {
                throw RuleViolation(
                    .invalidDetails,
                    rule: Rule.details,
                    "statement.details.replacement: a product cannot replace itself"
                )
            }
            state.warrantyClaim = nil
            if resolution == "replace" || resolution == "refund" {
                state.phase = .returned
                state.custodian = signer.id
                state.grade = nil
            } else {
                state.phase = .delivered
                state.custodian = nil
            }

        case .tradeIn:
            state.custodian = signer.id

        case .leaseOut:
            guard let lease = digest("leaseDigest"), let until = timestamp("until") else {
                throw RuleViolation(
                    .invalidDetails,
                    rule: Rule.details,
                    "statement.details.leaseDigest or until is missing"
                )
            }
            state.lease = ProductState.Lease(leaseDigest: lease, lessor: signer.id, until: until)
            state.custodian = nil
            state.sale = nil

        case .leaseReturn:
            if let given = digest("leaseDigest"), given != old.lease?.leaseDigest {
                throw RuleViolation(
                    .referenceMismatch,
                    rule: Rule.referencesMatch,
                    "the lease digest is not the running lease's"
                )
            }
            state.lease = nil
            state.custodian = signer.id
            state.grade = nil
            state.counters.returns += 1

        case .excessDisposition:
            switch string("action") {
            case "redistribute":
                state.phase = .inTransit
                state.consignee = string("consignee")
            case "liquidate":
                state.phase = .liquidated
                state.custodian = nil
            default:
                state.phase = .donated
                state.custodian = nil
            }

        case .recall:
            state.recall = ProductState.Recall(
                event: eventID,
                notice: string("notice") ?? "",
                reason: string("reason") ?? "",
                remedy: string("remedy") ?? "",
                recalledBy: signer.id,
                time: time
            )

        case .recallRemedy:
            state.recall = nil

        case .reportStolen, .reportLost:
            state.missing = ProductState.Missing(
                kind: statement.type == .reportStolen ? "stolen" : "lost",
                reportedBy: signer.id,
                time: time
            )

        case .recycle:
            guard signer.recyclingAccreditation(at: time) != nil else {
                throw RuleViolation(
                    .notAccredited,
                    rule: Rule.accreditation,
                    "\(signer.id) holds no recycling accreditation (R2v3, e-Stewards, WEEE AATF) valid at \(time)"
                )
            }
            if statement.batch == nil, let declared = old.declaredMassGrams,
                case .object(let recovered)? = details["materials"]
            {
                let total = recovered.values.reduce(Int64(0)) { $0 + ($1.integerValue ?? 0) }
                guard total <= declared else {
                    throw RuleViolation(
                        .massBalance,
                        rule: Rule.massBalance,
                        "\(total) g of materials recovered from a product declared at \(declared) g"
                    )
                }
            }
            state.custodian = signer.id

        case .dispose:
            state.custodian = signer.id

        default:
            break
        }
        return state
    }

    /// A retailer acts only on its own sales; the product's brand owner on any of its products (`L12`).
    private static func checkChannel(
        _ state: ProductState,
        signer: Party,
        ownsProduct: Bool,
        action: String
    ) throws(RuleViolation) {
        guard !ownsProduct else { return }
        guard let sale = state.sale, sale.retailer == signer.id else {
            throw RuleViolation(
                .wrongChannel,
                rule: Rule.wrongChannel,
                "\(signer.id) may not \(action): the product was sold by \(state.sale?.retailer ?? "no retailer")"
            )
        }
    }
}
