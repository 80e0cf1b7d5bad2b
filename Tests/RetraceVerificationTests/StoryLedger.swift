import CanonicalJSON
import Foundation
import MerkleLog
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceLedger
import RetraceSimulation
import RetraceStorage
import RetraceVerification

/// A fresh ledger in a temporary directory, with a helper that signs and appends each product's
/// next event on its current head, so tests read as the story they tell.
final class StoryLedger {
    static let parties: TestParties = {
        do { return try TestParties() } catch { preconditionFailure("embedded test keys do not load: \(error)") }
    }()

    /// Fixed start of every story, so ids and bundles are reproducible; the log's clock is fixed too.
    static let start = try! Timestamp(parsing: "2026-03-02T09:00:00Z")
    static let logTime = try! Timestamp(parsing: "2026-12-01T00:00:00Z")
    static let anchors = TrustAnchors(
        governance: [parties.governance.verifier],
        logKey: parties.log.verifier,
        origin: TestParties.origin
    )

    let directory: URL
    let store: SQLiteLedgerStore
    let ledger: Ledger
    private(set) var heads: [SGTIN: Digest] = [:]
    private(set) var classHeads: [String: Digest] = [:]
    var parties: TestParties { Self.parties }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("retrace-verif-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        store = try SQLiteLedgerStore.create(path: directory.appendingPathComponent("ledger.sqlite").path)
        let logTime = Self.logTime
        ledger = try Ledger.create(
            store: store,
            origin: TestParties.origin,
            logSigner: Self.parties.log,
            governance: [Self.parties.governance.verifier],
            roster: Self.parties.signedRoster(time: Self.start),
            clock: { logTime }
        )
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    var verifier: Verifier { Verifier(store: store, anchors: Self.anchors, clock: { Self.logTime }) }

    static func time(days: Int64, minutes: Int64 = 0) -> Timestamp {
        start.adding(seconds: 86_400 * days + 60 * minutes)
    }

    static func product(_ serial: String, gtin: String = "09506000134352") throws -> SGTIN {
        try SGTIN(gtin: GTIN(gtin), serial: Serial(serial))
    }

    static let order = try! Digest(hex: String(repeating: "ab", count: 32), field: "order")

    /// Signs `type` about `product` on its head and appends it.
    @discardableResult
    func record(
        _ type: EventType,
        _ product: SGTIN,
        by party: String,
        day: Int64,
        minute: Int64 = 0,
        details: [String: JSONValue] = [:]
    ) throws -> SignedStatement {
        let signed = try parties.sign(
            type,
            product: product,
            previous: heads[product],
            by: party,
            at: Self.time(days: day, minutes: minute),
            details: JSONObject(details)
        )
        try ledger.append([signed])
        heads[product] = signed.id
        return signed
    }

    /// Signs a brand owner's `product-class` statement for `gtin` on the GTIN's class head and appends it.
    @discardableResult
    func recordClass(
        gtin: String,
        by party: String = "northwind",
        day: Int64,
        details: [String: JSONValue]
    ) throws -> SignedStatement {
        var members = JSONObject(details)
        members["gtin"] = .string(gtin)
        let signed = try parties.sign(
            .productClass,
            product: nil,
            previous: classHeads[gtin],
            by: party,
            at: Self.time(days: day),
            details: members
        )
        try ledger.append([signed])
        classHeads[gtin] = signed.id
        return signed
    }

    /// Signs one batch statement over `products` (each on its head) and appends it.
    @discardableResult
    func recordBatch(
        _ type: EventType,
        _ products: [SGTIN],
        by party: String,
        day: Int64,
        details: [String: JSONValue]
    ) throws -> SignedStatement {
        var members: [BatchMember] = []
        for product in products {
            guard let head = heads[product] else { throw SimulationError("\(product) has no head") }
            members.append(BatchMember(product: product, previous: head))
        }
        let signed = try parties.sign(
            type,
            product: nil,
            previous: nil,
            by: party,
            at: Self.time(days: day),
            details: JSONObject(details),
            batch: members
        )
        try ledger.append([signed])
        for product in products { heads[product] = signed.id }
        return signed
    }

    // MARK: Story steps

    func commission(_ product: SGTIN, day: Int64 = 0, massGrams: Int64 = 1_800) throws {
        let owner = product.gtin.digits.hasPrefix("0614141") ? "contoso" : "northwind"
        try record(
            .commission,
            product,
            by: owner,
            day: day,
            details: ["massGrams": .integer(massGrams), "materials": .object(["aluminium": .integer(massGrams / 2)])]
        )
    }

    /// Commission → ship → receive at `retailer`.
    func stock(_ product: SGTIN, at retailer: String = "fabrikam", day: Int64 = 0, massGrams: Int64 = 1_800) throws {
        try commission(product, day: day, massGrams: massGrams)
        let owner = product.gtin.digits.hasPrefix("0614141") ? "contoso" : "northwind"
        try record(.ship, product, by: owner, day: day, minute: 10, details: ["consignee": .string(retailer)])
        try record(.receive, product, by: retailer, day: day + 1)
    }

    /// Stock → sell, with a 30-day return window.
    func sell(_ product: SGTIN, by retailer: String = "fabrikam", day: Int64 = 0, massGrams: Int64 = 1_800) throws {
        try stock(product, at: retailer, day: day, massGrams: massGrams)
        try record(
            .sell,
            product,
            by: retailer,
            day: day + 2,
            details: [
                "orderDigest": .string(Self.order.hex), "returnBy": .string(Self.time(days: day + 32).description),
            ]
        )
    }

    /// Return authorised by `retailer`, received at Litware's dock.
    func returnToDock(_ product: SGTIN, retailer: String = "fabrikam", rma: String, day: Int64) throws {
        try record(
            .returnAuthorize,
            product,
            by: retailer,
            day: day,
            details: ["rma": .string(rma), "reason": .string("defective")]
        )
        try record(
            .returnReceive,
            product,
            by: "litware",
            day: day + 2,
            details: [
                "condition": .string("opened"), "scanned": .string(product.elementString), "rma": .string(rma),
            ]
        )
    }
}

/// A GTIN-14 with its GS1 check digit computed from the first 13 digits.
func gtin14(_ first13: String) -> String {
    var sum = 0
    for (position, character) in first13.reversed().enumerated() {
        let digit = Int(String(character)) ?? 0
        sum += digit * (position % 2 == 0 ? 3 : 1)
    }
    return first13 + String((10 - sum % 10) % 10)
}
