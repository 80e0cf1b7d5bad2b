import RetraceCrypto

/// The kind of a statement: a step in a product's life, a roster update, or a brand owner's
/// description of a product class (GTIN).
///
/// A struct rather than an enum because the catalogue grows with new versions of the format; a
/// reader refuses names it does not know (``EventType/init(name:)``) instead of guessing.
public struct EventType: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let name: String

    private init(_ name: String) { self.name = name }

    public init(name: String) throws(FormatError) {
        guard let known = Self.all.first(where: { $0.name == name }) else {
            throw FormatError(.unknownEventType, field: "statement.type", "unknown event type \"\(name)\"")
        }
        self = known
    }

    /// The type whose name is exactly these UTF-8 bytes, for readers that never make a string of
    /// them; `nil` for any other bytes.
    init?(nameUTF8 utf8: UnsafeBufferPointer<UInt8>) {
        for known in Self.all {
            var name = known.name
            let matches = name.withUTF8 { Bytewise.equal(UnsafeRawBufferPointer($0), UnsafeRawBufferPointer(utf8)) }
            if matches {
                self = known
                return
            }
        }
        return nil
    }

    public var description: String { name }
    public static func < (lhs: EventType, rhs: EventType) -> Bool { lhs.name < rhs.name }

    // Trust.
    public static let roster = EventType("roster")
    // Master data: what a GTIN is (name, model, image), signed by its brand owner; a chain per GTIN.
    public static let productClass = EventType("product-class")
    // Forward flow.
    public static let commission = EventType("commission")
    public static let ship = EventType("ship")
    public static let receive = EventType("receive")
    public static let sell = EventType("sell")
    public static let deliver = EventType("deliver")
    public static let deliveryFailed = EventType("delivery-failed")
    // Reverse flow.
    public static let returnAuthorize = EventType("return-authorize")
    public static let returnReceive = EventType("return-receive")
    public static let inspect = EventType("inspect")
    public static let restock = EventType("restock")
    public static let repair = EventType("repair")
    public static let refurbish = EventType("refurbish")
    public static let resell = EventType("resell")
    public static let warrantyClaim = EventType("warranty-claim")
    public static let warrantyResolve = EventType("warranty-resolve")
    public static let tradeIn = EventType("trade-in")
    public static let leaseOut = EventType("lease-out")
    public static let leaseReturn = EventType("lease-return")
    public static let excessDisposition = EventType("excess-disposition")
    public static let recall = EventType("recall")
    public static let recallRemedy = EventType("recall-remedy")
    public static let reportStolen = EventType("report-stolen")
    public static let reportLost = EventType("report-lost")
    // End of life.
    public static let recycle = EventType("recycle")
    public static let dispose = EventType("dispose")

    public static let all: [EventType] = [
        .roster, .commission, .ship, .receive, .sell, .deliver, .deliveryFailed, .returnAuthorize, .returnReceive,
        .inspect, .restock, .repair, .refurbish, .resell, .warrantyClaim, .warrantyResolve, .tradeIn, .leaseOut,
        .leaseReturn, .excessDisposition, .recall, .recallRemedy, .reportStolen, .reportLost, .recycle, .dispose,
        .productClass,
    ]

    /// The types that are steps in a product's life: every type but `roster` and `product-class`,
    /// which form chains of their own and are judged outside any product's state.
    public static let productEvents: [EventType] = all.filter { $0 != .roster && $0 != .productClass }

    /// Types that may be signed once for many products (a pallet certificate, a lot recall).
    public static let batchable: Set<EventType> = [
        .ship, .receive, .recall, .recallRemedy, .recycle, .dispose, .excessDisposition,
    ]
}
