import RetraceEvents

/// Which part of the ledger a report covers. Every member is optional; `nil` means "all".
public struct InsightsFilter: Sendable, Hashable, Codable {
    /// Events at or after this time (the statement's own `time`).
    public var from: Timestamp?
    /// Events strictly before this time.
    public var to: Timestamp?
    /// Products of this brand owner (party id).
    public var brand: String?
    /// Figures attributed to this retailer (party id): its sales, the returns and failed deliveries
    /// of its sales, their recovery, and the fraud signals at its sales.
    public var retailer: String?
    /// Products of this GTIN-14.
    public var gtin: String?

    public init(
        from: Timestamp? = nil,
        to: Timestamp? = nil,
        brand: String? = nil,
        retailer: String? = nil,
        gtin: String? = nil
    ) {
        self.from = from
        self.to = to
        self.brand = brand
        self.retailer = retailer
        self.gtin = gtin
    }

    func covers(time: Timestamp) -> Bool {
        if let from, time < from { return false }
        if let to, time >= to { return false }
        return true
    }

    func covers(gtin: String, brand: String) -> Bool {
        (self.gtin == nil || self.gtin == gtin) && (self.brand == nil || self.brand == brand)
    }

    func covers(retailer: String?) -> Bool { self.retailer == nil || self.retailer == retailer }
}
