import RetraceAudit
import RetraceEvents
import RetraceRules

/// Return, recovery, recall and fraud figures of a ledger, accumulated event by event from what a
/// full audit accepted (``AuditedEvent``), in log order (spec/insights.md).
///
/// Memory is a few counters per group plus one small record per product that was sold, returned
/// or recalled: O(products), never O(events), so the same code serves 10^6 events.
public struct ReturnInsights: Sendable, Codable {
    public let filter: InsightsFilter

    /// Sales and returns counted by one dimension (GTIN, brand, retailer, channel, month).
    public struct Tally: Sendable, Hashable, Codable {
        public internal(set) var sales = 0
        public internal(set) var returns = 0
        /// Returns per 10,000 sales (basis points); `nil` without sales.
        public var rateBasisPoints: Int? { sales == 0 ? nil : returns * 10_000 / sales }
    }

    /// What became of one returned unit after its return.
    public enum Outcome: String, Sendable, CaseIterable, Codable {
        case awaitingDecision = "awaiting-decision"
        case inRepair = "in-repair"
        case restocked
        case restockedAndSold = "restocked-and-sold"
        case refurbished
        case resoldPreOwned = "resold-pre-owned"
        case certifiedPreOwned = "certified-pre-owned"
        case donated
        case liquidated
        case recycled
        case disposed
    }

    /// One recall notice on one lot.
    public struct RecallLot: Sendable, Hashable, Codable {
        public let notice: String
        public let lot: String
        public internal(set) var reason = ""
        public internal(set) var remedy = ""
        public internal(set) var affected = 0
        public internal(set) var remedied = 0
        public internal(set) var notAffected = 0
        /// Recycled or disposed of with the recall still open (the unit was taken out, not fixed).
        public internal(set) var endOfLife = 0
        /// Still recalled and not at end of life when the report was made.
        public var stillInField: Int { affected - remedied - notAffected - endOfLife }
    }

    /// A sale price in minor units of a currency (catalogue 1.1).
    public struct Price: Sendable, Hashable, Codable {
        public let amount: Int64
        public let currency: String
    }

    /// Returned units' original prices against what their resale recovered, in one currency.
    public struct Value: Sendable, Hashable, Codable {
        /// Returned units whose sale stated a price in this currency.
        public internal(set) var returnedUnits = 0
        public internal(set) var originalPrice: Int64 = 0
        /// Of those, the units resold so far, and the prices they were resold at.
        public internal(set) var resoldUnits = 0
        public internal(set) var recovered: Int64 = 0
    }

    /// A customer (salted digest only) who returned more than once.
    public struct Returner: Sendable, Hashable, Codable {
        public let customerDigest: Digest
        public internal(set) var returns = 0
        public internal(set) var retailers: Set<String> = []
    }

    // Returns.
    public private(set) var sales = 0
    public private(set) var returns = 0
    public private(set) var byGTIN: [String: Tally] = [:]
    public private(set) var byBrand: [String: Tally] = [:]
    public private(set) var byRetailer: [String: Tally] = [:]
    public private(set) var byChannel: [String: Tally] = [:]
    public private(set) var byMonth: [String: Tally] = [:]
    public private(set) var returnsByDock: [String: Int] = [:]
    public private(set) var reasons: [String: Int] = [:]
    public private(set) var saleToReturnHours = Distribution()
    public private(set) var failedDeliveries: [String: Int] = [:]
    /// Returns received after the sale's `returnBy` (accepted all the same, e.g. on a brand's authorisation).
    public private(set) var returnsAfterWindow = 0
    /// Returns received by a retailer other than the one that sold the unit.
    public private(set) var returnsAtAnotherRetailer = 0
    public private(set) var tradeIns = 0
    public private(set) var leaseReturns = 0
    // Recovery.
    private var outcomes: [Outcome] = []
    /// A returned unit whose outcome is still open: its place in ``outcomes``, when it came back,
    /// and what it had been sold for.
    struct OpenReturn: Sendable, Codable {
        let outcome: Int
        let time: Timestamp
        let price: Price?
    }
    private var openReturn: [String: OpenReturn] = [:]
    /// Per currency: what returned units had been sold for, and what their resale brought
    /// (catalogue 1.1 `price`; units sold without a price are not in these sums).
    public private(set) var value: [String: Value] = [:]
    private var salePrice: [String: Price] = [:]
    public private(set) var returnToResaleHours = Distribution()
    // Recalls.
    private var lots: [String: String] = [:]
    private var recallLots: [String: RecallLot] = [:]
    private var recalled: [String: String] = [:]
    // Fraud signals.
    public private(set) var stolenResurfacedByDock: [String: Int] = [:]
    public private(set) var stolenResurfacedByRetailer: [String: Int] = [:]
    public private(set) var lostResurfaced = 0
    /// Returns of a serial that had already been returned after an earlier sale.
    public private(set) var serialsReturnedAgain = 0
    private var returners: [Digest: Returner] = [:]
    // Per product: the channel of its current sale.
    private var saleChannel: [String: String] = [:]

    public private(set) var eventsRead = 0

    public init(filter: InsightsFilter = InsightsFilter()) {
        self.filter = filter
    }

    static func month(_ time: Timestamp) -> String { String(time.description.prefix(7)) }

    // MARK: Reading events

    public mutating func add(_ event: AuditedEvent) {
        eventsRead += 1
        let statement = event.statement
        for step in event.steps {
            add(statement, step: step, signer: event.signer)
        }
    }

    private mutating func add(_ statement: Statement, step: AuditedEvent.Step, signer: Party) {
        let key = step.product.digitalLink
        let after = step.after
        let before = step.before
        let time = statement.time
        if statement.type == .commission, let lot = statement.details["lot"]?.stringValue { lots[key] = lot }
        let inScope = filter.covers(gtin: after.gtin, brand: after.brandOwner)
        guard inScope else { return }
        let inWindow = filter.covers(time: time)
        let details = statement.details

        switch statement.type {
        case .sell, .resell:
            let channel = details["channel"]?.stringValue ?? "unspecified"
            saleChannel[key] = channel
            var price: Price?
            if let amount = details["price"]?.integerValue, let currency = details["currency"]?.stringValue {
                price = Price(amount: amount, currency: currency)
            }
            salePrice[key] = price
            if let open = openReturn.removeValue(forKey: key) {
                if let original = open.price, let price, price.currency == original.currency {
                    value[original.currency, default: Value()].resoldUnits += 1
                    value[original.currency, default: Value()].recovered += price.amount
                }
                let resold = statement.type == .resell
                let certified = details["certifiedPreOwned"]?.boolValue == true
                outcomes[open.outcome] =
                    resold ? (certified ? .certifiedPreOwned : .resoldPreOwned) : .restockedAndSold
                returnToResaleHours.add((time.secondsSinceEpoch - open.time.secondsSinceEpoch) / 3600)
            }
            guard inWindow, filter.covers(retailer: signer.id) else { return }
            sales += 1
            tally(gtin: after.gtin, brand: after.brandOwner, retailer: signer.id, channel: channel, time: time) {
                $0.sales += 1
            }
        case .deliveryFailed:
            guard inWindow, filter.covers(retailer: before?.sale?.retailer) else { return }
            failedDeliveries[details["reason"]?.stringValue ?? "unspecified", default: 0] += 1
        case .returnReceive:
            recordReturn(statement, key: key, before: before, signer: signer, inWindow: inWindow)
        case .tradeIn:
            if inWindow, filter.covers(retailer: before?.sale?.retailer) { tradeIns += 1 }
        case .leaseReturn:
            if inWindow { leaseReturns += 1 }
        case .repair:
            if let open = openReturn[key] { outcomes[open.outcome] = .inRepair }
        case .restock:
            if let open = openReturn[key] { outcomes[open.outcome] = .restocked }
        case .refurbish:
            if let open = openReturn[key] { outcomes[open.outcome] = .refurbished }
        case .excessDisposition:
            if let open = openReturn[key] {
                switch details["action"]?.stringValue {
                case "donate": outcomes[open.outcome] = .donated
                case "liquidate": outcomes[open.outcome] = .liquidated
                default: break
                }
                if details["action"] != .string("redistribute") { openReturn[key] = nil }
            }
        case .recall:
            guard inWindow else { return }
            let notice = details["notice"]?.stringValue ?? ""
            let lot = lots[key] ?? "(no lot)"
            let id = notice + "\n" + lot
            var entry = recallLots[id] ?? RecallLot(notice: notice, lot: lot)
            entry.reason = details["reason"]?.stringValue ?? ""
            entry.remedy = details["remedy"]?.stringValue ?? ""
            entry.affected += 1
            recallLots[id] = entry
            recalled[key] = id
        case .recallRemedy:
            if let id = recalled.removeValue(forKey: key) {
                if details["action"] == .string("not-affected") {
                    recallLots[id]?.notAffected += 1
                } else {
                    recallLots[id]?.remedied += 1
                }
            }
        default:
            break
        }
        if after.phase.isTerminal {
            if let open = openReturn.removeValue(forKey: key) {
                outcomes[open.outcome] = after.phase == .recycled ? .recycled : .disposed
            }
            if let id = recalled.removeValue(forKey: key) { recallLots[id]?.endOfLife += 1 }
            saleChannel[key] = nil
            salePrice[key] = nil
        }
    }

    private mutating func recordReturn(
        _ statement: Statement,
        key: String,
        before: ProductState?,
        signer: Party,
        inWindow: Bool
    ) {
        guard let before else { return }
        let time = statement.time
        if let missing = before.missing {
            // The recovery of a unit reported stolen or lost: a fraud signal, not a customer return.
            guard inWindow else { return }
            if missing.kind == "stolen" {
                stolenResurfacedByDock[signer.id, default: 0] += 1
                stolenResurfacedByRetailer[missing.reportedBy, default: 0] += 1
            } else {
                lostResurfaced += 1
            }
            return
        }
        let sale = before.sale
        guard filter.covers(retailer: sale?.retailer) else { return }
        // Recovery follows every return in scope, whatever the window, so that a return inside the
        // window whose resale falls outside it still counts its outcome.
        let price = salePrice.removeValue(forKey: key)
        openReturn[key] = OpenReturn(outcome: outcomes.count, time: time, price: price)
        outcomes.append(.awaitingDecision)
        if let price {
            value[price.currency, default: Value()].returnedUnits += 1
            value[price.currency, default: Value()].originalPrice += price.amount
        }
        guard inWindow else { return }
        returns += 1
        returnsByDock[signer.id, default: 0] += 1
        let retailer = sale?.retailer ?? "(no sale)"
        let channel = saleChannel[key] ?? (before.lastEventType == .tradeIn ? "trade-in" : "unspecified")
        tally(gtin: before.gtin, brand: before.brandOwner, retailer: retailer, channel: channel, time: time) {
            $0.returns += 1
        }
        let reason =
            before.returnAuthorization?.reason
            ?? (before.phase == .deliveryFailed ? "undelivered" : before.phase == .tradedIn ? "trade-in" : "no-rma")
        reasons[reason, default: 0] += 1
        if let sale {
            saleToReturnHours.add((time.secondsSinceEpoch - sale.time.secondsSinceEpoch) / 3600)
            if let returnBy = sale.returnBy, time > returnBy { returnsAfterWindow += 1 }
            if signer.has(.retailer), signer.id != sale.retailer { returnsAtAnotherRetailer += 1 }
            if let customer = sale.customerDigest {
                var returner = returners[customer] ?? Returner(customerDigest: customer)
                returner.returns += 1
                returner.retailers.insert(sale.retailer)
                returners[customer] = returner
            }
        }
        if before.counters.returns >= 1 { serialsReturnedAgain += 1 }
    }

    private mutating func tally(
        gtin: String,
        brand: String,
        retailer: String,
        channel: String,
        time: Timestamp,
        _ change: (inout Tally) -> Void
    ) {
        change(&byGTIN[gtin, default: Tally()])
        change(&byBrand[brand, default: Tally()])
        change(&byRetailer[retailer, default: Tally()])
        change(&byChannel[channel, default: Tally()])
        change(&byMonth[Self.month(time), default: Tally()])
    }

    // MARK: Results

    /// Returned units by what became of them (every outcome listed, zero included).
    public var recoveryOutcomes: [Outcome: Int] {
        var counts = Dictionary(uniqueKeysWithValues: Outcome.allCases.map { ($0, 0) })
        for outcome in outcomes { counts[outcome, default: 0] += 1 }
        return counts
    }

    /// Recall notices per lot, ordered by notice then lot.
    public var recalls: [RecallLot] {
        recallLots.values.sorted { ($0.notice, $0.lot) < ($1.notice, $1.lot) }
    }

    /// Customers (salted digests) with two returns or more, most returns first.
    public var repeatReturners: [Returner] {
        returners.values.filter { $0.returns >= 2 }.sorted {
            ($1.returns, $1.retailers.count, $0.customerDigest.hex) < (
                $0.returns, $0.retailers.count, $1.customerDigest.hex
            )
        }
    }
}
