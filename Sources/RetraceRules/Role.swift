/// A capacity in which a party signs events: brand owner, carrier, returns centre, …
///
/// A struct rather than an enum because the list of roles grows with the catalogue; a roster that
/// names a role this version does not know is refused (``Role/init(name:)``) rather than guessed at.
/// A party may hold several roles; an event type lists the roles allowed to record it.
public struct Role: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let name: String

    private init(_ name: String) { self.name = name }

    /// The role with this name, or `nil` if this version does not define it.
    public init?(name: String) {
        guard let known = Self.all.first(where: { $0.name == name }) else { return nil }
        self = known
    }

    public var description: String { name }
    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.name < rhs.name }

    /// Owns the GTINs under its GS1 company prefixes: commissions, recalls, handles warranty.
    public static let brandOwner = Role("brand-owner")
    /// Wholesaler or third-party logistics (3PL) provider: ships, receives, stores.
    public static let distributor = Role("distributor")
    /// Parcel or freight carrier: delivers to customers, reports failed deliveries.
    public static let carrier = Role("carrier")
    /// Shop or marketplace: sells, authorises returns, takes trade-ins, leases.
    public static let retailer = Role("retailer")
    /// Receiving dock for returns: receives, inspects and restocks returned products.
    public static let returnsCentre = Role("returns-centre")
    /// Repairer or refurbisher; "certified refurbished" needs an accreditation.
    public static let refurbisher = Role("refurbisher")
    /// Recycler; recycling needs an accreditation (R2v3, e-Stewards or WEEE AATF).
    public static let recycler = Role("recycler")
    /// Reads and verifies only; may sign nothing.
    public static let auditor = Role("auditor")

    public static let all: [Role] = [
        .brandOwner, .distributor, .carrier, .retailer, .returnsCentre, .refurbisher, .recycler, .auditor,
    ]
}
