import CanonicalJSON
import RetraceEvents

/// The details of a `product-class` statement, read after validation against the catalogue: what
/// a brand owner says a GTIN is.
public struct ProductClassDetails: Hashable, Sendable {
    /// An image by reference: shown only when the bytes fetched from ``url`` hash to ``sha256``,
    /// so the signed statement vouches for the picture without the log ever storing it.
    public struct Image: Hashable, Sendable {
        public let url: String
        public let sha256: Digest
    }

    /// The GTIN-14 described.
    public let gtin: String
    /// The product's name, 1–200 characters ("Phone X").
    public let name: String
    /// The model designation, 1–100 characters, if given.
    public let model: String?
    public let image: Image?
    /// The declared mass of one item of the class, in grams; an item's `commission` may declare its own.
    public let massGrams: Int64?
    public let materials: [String: Int64]

    public init(_ statement: Statement) throws(RuleViolation) {
        try DetailsAccess.check(statement, is: .productClass)
        let details = statement.details
        self.gtin = details["gtin"]?.stringValue ?? ""
        self.name = details["name"]?.stringValue ?? ""
        self.model = details["model"]?.stringValue
        if case .object(let image)? = details["image"], let url = image["url"]?.stringValue,
            let sha256 = DetailsAccess.digest(image["sha256"])
        {
            self.image = Image(url: url, sha256: sha256)
        } else {
            self.image = nil
        }
        self.massGrams = details["massGrams"]?.integerValue
        self.materials = DetailsAccess.materials(details["materials"])
    }
}
