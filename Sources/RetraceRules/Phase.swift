/// Where a product stands in its life: the row of the state table that decides what may happen next.
///
/// Recalls and theft/loss reports are not phases but overlays on ``ProductState`` (a recalled
/// product is still in stock, or still with its customer); see `spec/lifecycle.md`.
public struct Phase: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let name: String

    private init(_ name: String) { self.name = name }

    /// The phase with this name, or `nil` if this version does not define it.
    public init?(name: String) {
        guard let known = Self.all.first(where: { $0.name == name }) else { return nil }
        self = known
    }

    public var description: String { name }
    public static func < (lhs: Phase, rhs: Phase) -> Bool { lhs.name < rhs.name }

    /// Commissioned by its brand owner, not yet shipped.
    public static let commissioned = Phase("commissioned")
    /// Shipped between trading partners, not yet received.
    public static let inTransit = Phase("in-transit")
    /// In a party's sellable inventory.
    public static let inStock = Phase("in-stock")
    /// Sold to a customer (with the customer, or awaiting dispatch to them).
    public static let sold = Phase("sold")
    /// Shipped to the customer who bought it.
    public static let outForDelivery = Phase("out-for-delivery")
    /// Handed to the customer.
    public static let delivered = Phase("delivered")
    /// The carrier could not deliver it; held or on its way back.
    public static let deliveryFailed = Phase("delivery-failed")
    /// A return was authorised (an RMA is open); the customer still has it.
    public static let returnAuthorized = Phase("return-authorized")
    /// Received back at a returns dock, not yet graded.
    public static let returned = Phase("returned")
    /// Graded by inspection.
    public static let inspected = Phase("inspected")
    /// Repaired outside a warranty claim.
    public static let repaired = Phase("repaired")
    /// A warranty claim is open.
    public static let warrantyClaimed = Phase("warranty-claimed")
    /// Repaired under the open warranty claim, awaiting its resolution.
    public static let warrantyRepaired = Phase("warranty-repaired")
    /// Refurbished for resale as pre-owned.
    public static let refurbished = Phase("refurbished")
    /// Bought back from its customer for credit, not yet received at a dock.
    public static let tradedIn = Phase("traded-in")
    /// With a lessee.
    public static let leased = Phase("leased")
    /// Sold off as excess inventory to a liquidator; it has left the tracked channel.
    public static let liquidated = Phase("liquidated")
    /// Given away as excess inventory.
    public static let donated = Phase("donated")
    /// Recycled: terminal.
    public static let recycled = Phase("recycled")
    /// Disposed of or destroyed: terminal.
    public static let disposed = Phase("disposed")

    public static let all: [Phase] = [
        .commissioned, .inTransit, .inStock, .sold, .outForDelivery, .delivered, .deliveryFailed, .returnAuthorized,
        .returned, .inspected, .repaired, .warrantyClaimed, .warrantyRepaired, .refurbished, .tradedIn, .leased,
        .liquidated, .donated, .recycled, .disposed,
    ]

    /// Nothing may follow a terminal phase (rule `L7 terminal`).
    public var isTerminal: Bool { self == .recycled || self == .disposed }
}
