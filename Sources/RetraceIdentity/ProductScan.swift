/// Everything read from one scan or typed identity: the item's SGTIN plus the data that came with it.
public struct ProductScan: Hashable, Sendable {
    /// Which written form the identity arrived in.
    public enum Form: String, Hashable, Sendable, CaseIterable {
        /// GS1 element strings as a scanner emits them (`01…21…` with GS separators).
        case elementString
        /// `(01)…(21)…`, as printed under a barcode.
        case humanReadable
        /// A GS1 Digital Link URI on any domain.
        case digitalLink
        /// `urn:epc:id:sgtin:…` (GS1 Tag Data Standard pure identity).
        case epcURN
    }

    public let sgtin: SGTIN
    /// AI 10, batch or lot.
    public let lot: String?
    /// AI 17.
    public let expiry: GS1Date?
    /// AI 11.
    public let productionDate: GS1Date?
    /// AI 15.
    public let bestBefore: GS1Date?
    /// AI 22, consumer product variant (a key qualifier of the GTIN in Digital Link).
    public let consumerProductVariant: String?
    /// Other supported AIs (00, 12, 13, 16, 20, 310n–316n) by code, values as written after validation.
    public let otherElements: [String: String]
    public let form: Form
    /// The `]xy` symbology identifier the scanner sent, if any (e.g. `]d2` for GS1 DataMatrix).
    public let symbologyIdentifier: String?

    public init(
        sgtin: SGTIN,
        lot: String? = nil,
        expiry: GS1Date? = nil,
        productionDate: GS1Date? = nil,
        bestBefore: GS1Date? = nil,
        consumerProductVariant: String? = nil,
        otherElements: [String: String] = [:],
        form: Form,
        symbologyIdentifier: String? = nil
    ) {
        self.sgtin = sgtin
        self.lot = lot
        self.expiry = expiry
        self.productionDate = productionDate
        self.bestBefore = bestBefore
        self.consumerProductVariant = consumerProductVariant
        self.otherElements = otherElements
        self.form = form
        self.symbologyIdentifier = symbologyIdentifier
    }
}
