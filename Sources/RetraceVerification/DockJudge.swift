import RetraceEvents
import RetraceIdentity
import RetraceRules

/// Turns a product's verified evidence into one dock verdict: a pure function, so the database
/// path and the offline bundle path give the same answer for the same evidence.
///
/// The checks run from the most serious to the least: end of life, theft or loss, recall, a unit
/// that left the channel, never sold, returned already, the channel, the references the customer
/// gave, the return window. The first that matches is the verdict.
public enum DockJudge {
    public static func verdict(
        _ request: DockRequest,
        product: SGTIN,
        evidence verified: VerifiedBundle,
        now: Timestamp
    ) -> DockVerdict {
        guard let item = verified.products.first(where: { $0.product == product }) else {
            return integrityFailure(
                product,
                VerificationError(.notFound, "the evidence does not cover \(product.digitalLink)")
            )
        }
        let state = item.state
        let events = item.events
        let size = item.checkpoint.size
        let passport = item.passport.hex
        func make(
            _ code: DockVerdict.Code,
            _ message: String,
            _ reasons: [String],
            _ evidence: [Digest],
            _ disposition: DockVerdict.Disposition?
        ) -> DockVerdict {
            DockVerdict(
                code: code,
                message: message,
                reasons: reasons,
                evidence: evidence.map(\.hex),
                product: product.digitalLink,
                passport: passport,
                checkpointSize: size,
                suggestedDisposition: disposition
            )
        }
        let verifiedLine = "\(events.count) events verified against signed checkpoint \(size)"

        if let end = events.first(where: { $0.state.phase.isTerminal }) {
            let what = end.statement.type == .recycle ? "recycled" : "destroyed"
            let certificate = end.statement.details["certificate"]?.stringValue.map { " (certificate \($0))" } ?? ""
            return make(
                .endOfLife,
                "STOP: this serial was \(what) by \(end.party.name) on \(day(end.statement.time))\(certificate); "
                    + "a unit carrying it should not exist: it is a clone, or the "
                    + "\(what == "recycled" ? "recycling" : "destruction") "
                    + "claim was false.",
                [
                    verifiedLine, "\(end.statement.type) recorded at log index \(end.index)",
                    "the unit scanned now is a second sighting of a serial whose life ended",
                ],
                [end.id],
                .quarantine
            )
        }
        if let missing = state.missing {
            let report = events.last { $0.statement.type == .reportStolen || $0.statement.type == .reportLost }
            return make(
                .reportedStolen,
                "STOP: this unit was reported \(missing.kind) by \(partyName(missing.reportedBy, verified)) on "
                    + "\(day(missing.time)); hold it and alert loss prevention: do not refund.",
                [verifiedLine, "\(missing.kind) report in force since \(missing.time)"],
                report.map { [$0.id] } ?? [],
                .quarantine
            )
        }
        if let recall = state.recall {
            return make(
                .recalled,
                "This unit is under recall \(recall.notice) (\(recall.reason), remedy: \(recall.remedy)); "
                    + "do not restock it: route it to recall handling.",
                [verifiedLine, "recall issued by \(partyName(recall.recalledBy, verified)) on \(recall.time)"],
                [recall.event],
                .routeToRecall
            )
        }
        if state.phase == .liquidated || state.phase == .donated, let last = events.last {
            return make(
                .wrongChannel,
                "This unit left the retail channel (\(state.phase) by \(last.party.name) on "
                    + "\(day(last.statement.time))); no retailer sold it, so no refund is due here.",
                [verifiedLine, "excess disposition at log index \(last.index)"],
                [last.id],
                .quarantine
            )
        }
        let saleIndex = events.lastIndex { $0.statement.type == .sell || $0.statement.type == .resell }
        let otherwiseOut = state.phase == .leased || state.phase == .tradedIn
        guard let saleIndex else {
            if otherwiseOut { return genuine(make, verifiedLine, events, state, product, nil) }
            let last = events.last
            return make(
                .neverSold,
                "STOP: this unit was never sold to a customer (it is \(state.phase), last held by "
                    + "\(partyName(state.custodian ?? state.brandOwner, verified))); it is diverted or stolen stock, "
                    + "not a customer return.",
                [verifiedLine, "no sell or resell event in the product's history"],
                [item.passport] + (last.map { [$0.id] } ?? []),
                .quarantine
            )
        }
        let sale = events[saleIndex]
        if let again = events[(saleIndex + 1)...].first(where: {
            $0.state.phase == .returned
                && ($0.statement.type == .returnReceive || $0.statement.type == .warrantyResolve)
        }) {
            return make(
                .alreadyReturned,
                "STOP: this serial was already returned to \(again.party.name) on \(day(again.statement.time)) after "
                    + "its last sale; this is a second unit with a copied serial, or a second refund claim.",
                [
                    verifiedLine, "sold by \(sale.party.name) on \(sale.statement.time) (index \(sale.index))",
                    "returned at index \(again.index)",
                ],
                [sale.id, again.id],
                .quarantine
            )
        }
        let seller = sale.party
        var channelNote: String?
        if let dockID = request.dock {
            guard let dock = verified.trust.party(id: dockID) else {
                return make(
                    .wrongChannel,
                    "This dock (\(dockID)) is not a party of the roster, so it cannot accept returns for "
                        + "\(seller.name).",
                    [verifiedLine],
                    [sale.id],
                    .returnToCustomer
                )
            }
            let serves: Bool
            if dock.has(.retailer), dock.id == seller.id {
                serves = true
            } else if dock.has(.brandOwner), dock.owns(product.gtin) {
                serves = true
            } else if dock.has(.returnsCentre) {
                if let retailers = request.servesRetailers {
                    serves = retailers.contains(seller.id)
                } else {
                    serves = true
                    channelNote = "\(dock.name) named no retailers it serves; the channel was not checked"
                }
            } else {
                serves = false
            }
            if !serves {
                return make(
                    .wrongChannel,
                    "This unit was sold by \(seller.name), not by a retailer this dock (\(dock.name)) serves: "
                        + "send the customer to \(seller.name).",
                    [verifiedLine, "sold by \(seller.id) on \(sale.statement.time)"],
                    [sale.id],
                    .returnToCustomer
                )
            }
        } else {
            // Said, not silent: a verdict without a dock has not checked who may take the unit back.
            channelNote = "no dock was named, so the channel was not checked (which docks may accept this return)"
        }
        if let rma = request.rma, rma != state.returnAuthorization?.rma {
            let open = state.returnAuthorization?.rma ?? "none"
            return make(
                .referenceMismatch,
                "The RMA given (\(rma)) is not the return authorised for this unit (\(open)): the label or paperwork "
                    + "belongs to another item or was made up.",
                [verifiedLine],
                [sale.id],
                .quarantine
            )
        }
        if let order = request.orderDigest, order != state.sale?.orderDigest {
            return make(
                .referenceMismatch,
                "The order given is not the order this unit was sold on: the receipt belongs to another item "
                    + "(receipt swap).",
                [verifiedLine, "the order digest does not match the sale recorded at index \(sale.index)"],
                [sale.id],
                .quarantine
            )
        }
        if let returnBy = state.sale?.returnBy, now > returnBy {
            let authorizedInTime = state.returnAuthorization.map { $0.time <= returnBy } ?? false
            if !authorizedInTime {
                return make(
                    .outsideReturnWindow,
                    "This unit's return window ended on \(day(returnBy)) (sold by \(seller.name) on "
                        + "\(day(sale.statement.time))): no refund; offer warranty service instead.",
                    [verifiedLine, "return by \(returnBy), returned \(now)"],
                    [sale.id],
                    .returnToCustomer
                )
            }
        }
        return genuine(make, verifiedLine, events, state, product, channelNote)
    }

    private static func genuine(
        _ make: (DockVerdict.Code, String, [String], [Digest], DockVerdict.Disposition?) -> DockVerdict,
        _ verifiedLine: String,
        _ events: [VerifiedEvent],
        _ state: ProductState,
        _ product: SGTIN,
        _ channelNote: String?
    ) -> DockVerdict {
        let sale = events.last { $0.statement.type == .sell || $0.statement.type == .resell }
        let rma = events.last { $0.statement.type == .returnAuthorize }
        var evidence = [state.passport]
        if let sale { evidence.append(sale.id) }
        if let rma, let sale, rma.index > sale.index { evidence.append(rma.id) }
        let soldBy = sale.map { " sold by \($0.party.name) on \(day($0.statement.time))" } ?? ""
        return make(
            .genuineReturnable,
            "Genuine unit\(soldBy): accept the return and inspect it before restocking.",
            [verifiedLine] + (channelNote.map { [$0] } ?? []),
            evidence,
            .inspect
        )
    }

    public static func integrityFailure(_ product: SGTIN, _ error: VerificationError) -> DockVerdict {
        DockVerdict(
            code: .ledgerIntegrityFailure,
            message: "STOP: the ledger's record for this unit does not verify (\(error.code)); do not accept it, "
                + "and report it to the ledger operator.",
            reasons: [error.description],
            evidence: error.events,
            product: product.digitalLink,
            checkpointSize: nil,
            suggestedDisposition: .quarantine
        )
    }

    static func day(_ time: Timestamp) -> String { String(time.description.prefix(10)) }

    static func partyName(_ id: String, _ verified: VerifiedBundle) -> String {
        verified.trust.party(id: id)?.name ?? id
    }
}
