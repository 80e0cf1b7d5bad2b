import CanonicalJSON
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceRules

/// One product's chain, driven through ``Lifecycle/apply`` with real statements signed by the test
/// keys and authenticated by the trust state, exactly as a ledger would (minus storage).
struct ProductChain {
    let parties: TestParties
    let product: SGTIN
    var trust: TrustState
    private(set) var state: ProductState?
    private(set) var head: Digest?
    /// The time the next event is dated; each event advances it by an hour.
    var clock: Timestamp
    private(set) var history: [SignedStatement] = []

    init(_ product: SGTIN, parties: TestParties, trust: TrustState? = nil, start: Timestamp = TestParties.start) {
        self.parties = parties
        self.product = product
        self.trust = trust ?? parties.trust
        self.clock = start
    }

    /// Builds and signs the statement the next `record` would append, without applying it.
    func statement(
        _ type: EventType,
        by party: String,
        details: JSONObject? = nil,
        location: String? = nil,
        at time: Timestamp? = nil,
        key: NoteSigner? = nil
    ) throws -> SignedStatement {
        let signer = key ?? parties.signer(party)
        let time = time ?? clock
        let statement = try Statement(
            type: type,
            product: product,
            previous: type == .commission ? nil : head,
            signer: TestParties.fingerprint(signer),
            time: time,
            location: location,
            details: details ?? Self.defaultDetails(type, product: product, time: time)
        )
        return try SignedStatement.sign(statement, with: signer.privateKey)
    }

    /// Signs, authenticates and applies one event; on success the chain moves on.
    @discardableResult
    mutating func record(
        _ type: EventType,
        by party: String? = nil,
        details: JSONObject? = nil,
        location: String? = nil,
        at time: Timestamp? = nil,
        key: NoteSigner? = nil
    ) throws -> ProductState {
        let signed = try statement(
            type,
            by: party ?? Self.defaultSigner(type),
            details: details,
            location: location,
            at: time,
            key: key
        )
        return try apply(signed)
    }

    /// Authenticates and applies an already signed statement.
    @discardableResult
    mutating func apply(_ signed: SignedStatement) throws -> ProductState {
        let signer = try trust.authenticate(signed)
        let next = try Lifecycle.apply(
            signed.statement,
            product: product,
            eventID: signed.id,
            state: state,
            signer: signer,
            trust: trust
        )
        state = next
        head = signed.id
        history.append(signed)
        clock = max(clock, signed.statement.time).adding(seconds: 3600)
        return next
    }

    /// Applies one member of a batch statement to this chain.
    @discardableResult
    mutating func apply(member signed: SignedStatement) throws -> ProductState {
        let signer = try trust.authenticate(signed)
        let next = try Lifecycle.apply(
            signed.statement,
            product: product,
            eventID: signed.id,
            state: state,
            signer: signer,
            trust: trust
        )
        state = next
        head = signed.id
        clock = max(clock, signed.statement.time).adding(seconds: 3600)
        return next
    }

    var phase: Phase? { state?.phase }

    // MARK: Defaults that pass every rule in the usual flows

    /// A party allowed to record `type` on a Northwind product in the usual flows.
    static func defaultSigner(_ type: EventType) -> String {
        switch type {
        case .commission, .warrantyClaim, .warrantyResolve, .recall, .recallRemedy: "northwind"
        case .ship, .excessDisposition, .reportStolen: "alpine"
        case .receive, .sell, .returnAuthorize, .tradeIn, .leaseOut: "fabrikam"
        case .deliver, .deliveryFailed, .reportLost: "wingtip"
        case .returnReceive, .inspect, .restock, .leaseReturn: "litware"
        case .repair, .refurbish: "proseware"
        case .resell: "tailspin"
        case .recycle, .dispose: "adatum"
        default: "northwind"
        }
    }

    static let recallNotice = "NW-RECALL-2025-01"
    static let claim = "WC-2025-0042"
    static let leaseDigest = TestParties.saltedDigest("lease-7781")

    /// Valid details for `type`, as the catalogue requires.
    static func defaultDetails(_ type: EventType, product: SGTIN, time: Timestamp) -> JSONObject {
        switch type {
        case .commission: ["lot": "L2025-03"]
        case .ship: ["shipment": "ASN-1001"]
        case .receive: ["shipment": "ASN-1001", "condition": "intact"]
        case .sell:
            [
                "orderDigest": .string(TestParties.saltedDigest("order-1")),
                "customerDigest": .string(TestParties.saltedDigest("customer-1")),
                "returnBy": .string(time.adding(seconds: 30 * 86_400).description), "channel": "online",
            ]
        case .deliver: ["method": "signature"]
        case .deliveryFailed: ["reason": "refused", "attempts": 1]
        case .returnAuthorize: ["rma": "RMA-0001", "reason": "wrong-size"]
        case .returnReceive: ["condition": "sealed", "scanned": .string(product.digitalLink)]
        case .inspect: ["grade": "as-new", "findings": ["packaging-opened"]]
        case .restock: [:]
        case .repair: ["work": ["battery-replaced"], "parts": [["part": "battery", "serial": "BAT-99881"]]]
        case .refurbish:
            [
                "work": ["battery-replaced", "housing-replaced"], "tests": ["battery-health", "display"],
                "softwareVersion": "4.2.1", "warrantyMonths": 12, "certified": true,
            ]
        case .resell:
            [
                "orderDigest": .string(TestParties.saltedDigest("order-2")), "certifiedPreOwned": false,
                "channel": "online",
            ]
        case .warrantyClaim: ["claim": .string(claim), "fault": "does-not-charge"]
        case .warrantyResolve: ["claim": .string(claim), "resolution": "refund"]
        case .tradeIn: ["credit": 12_000, "currency": "EUR", "grade": "good"]
        case .leaseOut:
            ["leaseDigest": .string(leaseDigest), "until": .string(time.adding(seconds: 365 * 86_400).description)]
        case .leaseReturn: ["condition": "used", "leaseDigest": .string(leaseDigest)]
        case .excessDisposition: ["action": "donate", "reference": "DON-77"]
        case .recall: ["notice": .string(recallNotice), "reason": "safety", "remedy": "software-update"]
        case .recallRemedy: ["notice": .string(recallNotice), "action": "software-updated"]
        case .reportStolen: ["reference": "POLICE-2025-1234"]
        case .reportLost: [:]
        case .recycle:
            [
                "certificate": "COR-2025-0001", "method": "mechanical-shredding",
                "materials": ["aluminium": 20, "copper": 5],
            ]
        case .dispose: ["method": "shredding"]
        default: [:]
        }
    }

    /// Event sequences (after `commission`) that bring a product into each phase.
    static let paths: [Phase: [EventType]] = {
        let inStock: [EventType] = [.ship, .receive]
        let sold = inStock + [.sell]
        let outForDelivery = sold + [.ship]
        let delivered = outForDelivery + [.deliver]
        let returned = delivered + [.returnAuthorize, .returnReceive]
        let inspected = returned + [.inspect]
        let warrantyClaimed = delivered + [.warrantyClaim]
        return [
            .commissioned: [], .inTransit: [.ship], .inStock: inStock, .sold: sold, .outForDelivery: outForDelivery,
            .delivered: delivered, .deliveryFailed: outForDelivery + [.deliveryFailed],
            .returnAuthorized: delivered + [.returnAuthorize], .returned: returned, .inspected: inspected,
            .repaired: inspected + [.repair], .warrantyClaimed: warrantyClaimed,
            .warrantyRepaired: warrantyClaimed + [.repair], .refurbished: inspected + [.refurbish],
            .tradedIn: delivered + [.tradeIn], .leased: inStock + [.leaseOut],
            .liquidated: inStock + [.excessDisposition], .donated: inStock + [.excessDisposition],
            .recycled: returned + [.recycle], .disposed: returned + [.dispose],
        ]
    }()

    /// A new Northwind product walked into `phase` along ``paths``.
    static func inPhase(_ phase: Phase, serial: String, parties: TestParties) throws -> ProductChain {
        var chain = ProductChain(try TestParties.northwindProduct(serial), parties: parties)
        try chain.record(.commission)
        for type in paths[phase] ?? [] {
            if phase == .liquidated, type == .excessDisposition {
                try chain.record(type, details: ["action": "liquidate"])
            } else {
                try chain.record(type)
            }
        }
        return chain
    }
}
