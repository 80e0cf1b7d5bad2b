import RetraceEvents

/// What a receiving dock knows when it scans a returned item.
public struct DockRequest: Hashable, Sendable {
    /// The scan in any identity form (scanner element string, Digital Link, EPC URN, human-readable).
    public let scan: String
    /// The RMA the customer or carrier label claims, if any.
    public let rma: String?
    /// The salted order digest the retailer's system computed from the claimed order, if any.
    public let orderDigest: Digest?
    /// The dock's own party id in the roster, if it identifies itself.
    public let dock: String?
    /// For a returns centre: the retailers (party ids) whose returns it handles. A returns centre
    /// that names none is not channel-checked (the verdict says so); a retailer's dock serves itself
    /// and a brand owner's dock serves its own GTINs.
    public let servesRetailers: Set<String>?
    /// The time of the return; defaults to the system clock.
    public let now: Timestamp?

    public init(
        scan: String,
        rma: String? = nil,
        orderDigest: Digest? = nil,
        dock: String? = nil,
        servesRetailers: Set<String>? = nil,
        now: Timestamp? = nil
    ) {
        self.scan = scan
        self.rma = rma
        self.orderDigest = orderDigest
        self.dock = dock
        self.servesRetailers = servesRetailers
        self.now = now
    }
}
