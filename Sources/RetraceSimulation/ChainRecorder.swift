import CanonicalJSON
import RetraceEvents
import RetraceIdentity

/// Signs statements as the test parties and keeps every product's chain head, so a story can be
/// written as "this happened to that product" without threading `previous` ids by hand.
///
/// Statement ids depend only on the statement's canonical bytes, so heads are known as soon as a
/// statement is built; the recorder keeps the statements in the order they were recorded, which
/// is a valid append order (every statement after the head it extends).
public struct ChainRecorder: Sendable {
    public let parties: TestParties
    /// Party id → the GLN stamped as `location` on its statements; parties not listed sign none.
    public let sites: [String: String]
    public private(set) var heads: [SGTIN: Digest] = [:]
    public private(set) var statements: [SignedStatement] = []

    public init(parties: TestParties, sites: [String: String] = [:]) {
        self.parties = parties
        self.sites = sites
    }

    /// The id of the product's latest recorded statement, `nil` before its commissioning.
    public func head(of product: SGTIN) -> Digest? { heads[product] }

    /// Signs one event about `product` as `party`, chained to its head (none for a commission).
    @discardableResult
    public mutating func record(
        _ type: EventType,
        _ product: SGTIN,
        by party: String,
        at time: Timestamp,
        details: JSONObject = JSONObject()
    ) throws -> SignedStatement {
        let previous = type == .commission ? nil : heads[product]
        if type != .commission, previous == nil {
            throw SimulationError("\(type) of \(product.digitalLink) before it was commissioned")
        }
        let signed = try parties.sign(
            type,
            product: product,
            previous: previous,
            by: party,
            at: time,
            location: sites[party],
            details: details
        )
        heads[product] = signed.id
        statements.append(signed)
        return signed
    }

    /// The id of each GTIN's latest recorded `product-class` statement.
    public private(set) var classHeads: [GTIN: Digest] = [:]

    /// Signs a brand owner's `product-class` statement for `gtin`, chained to the GTIN's class head.
    @discardableResult
    public mutating func recordClass(
        _ gtin: GTIN,
        by party: String,
        at time: Timestamp,
        details: JSONObject
    ) throws -> SignedStatement {
        var details = details
        details["gtin"] = .string(gtin.digits)
        let signed = try parties.sign(
            .productClass,
            product: nil,
            previous: classHeads[gtin],
            by: party,
            at: time,
            details: details
        )
        classHeads[gtin] = signed.id
        statements.append(signed)
        return signed
    }

    /// Signs one batch statement covering `products` (a pallet, a lot), each member chained to its head.
    @discardableResult
    public mutating func recordBatch(
        _ type: EventType,
        _ products: [SGTIN],
        by party: String,
        at time: Timestamp,
        details: JSONObject = JSONObject()
    ) throws -> SignedStatement {
        var members: [BatchMember] = []
        for product in products {
            guard let previous = heads[product] else {
                throw SimulationError("\(type) batch names \(product.digitalLink) before it was commissioned")
            }
            members.append(BatchMember(product: product, previous: previous))
        }
        let signed = try parties.sign(
            type,
            product: nil,
            previous: nil,
            by: party,
            at: time,
            location: sites[party],
            details: details,
            batch: members
        )
        for product in products { heads[product] = signed.id }
        statements.append(signed)
        return signed
    }
}
