import CanonicalJSON
import RetraceEvents

/// The details of a `sell` or `resell` statement.
///
/// The retailer is the signer; the order and customer appear only as salted SHA-256 digests that
/// the retailer can recompute from its own records, never as personal data.
public struct SaleDetails: Hashable, Sendable {
    public let orderDigest: Digest
    public let customerDigest: Digest?
    /// The end of the return window the retailer offered, if any.
    public let returnBy: Timestamp?
    /// `store` or `online`, if given.
    public let channel: String?
    /// Whether this is a resale of a refurbished product.
    public let isResale: Bool
    /// Sold as certified pre-owned (only after a certified refurbishment, `L17`).
    public let certifiedPreOwned: Bool

    public init(_ statement: Statement) throws(RuleViolation) {
        guard statement.type == .sell || statement.type == .resell else {
            throw RuleViolation(.invalidDetails, rule: Rule.details, "a \(statement.type) statement is not a sale")
        }
        try Catalogue.validate(statement)
        let details = statement.details
        guard let order = DetailsAccess.digest(details["orderDigest"]) else {
            throw RuleViolation(.invalidDetails, rule: Rule.details, "statement.details.orderDigest is missing")
        }
        self.orderDigest = order
        self.customerDigest = DetailsAccess.digest(details["customerDigest"])
        self.returnBy = DetailsAccess.time(details["returnBy"])
        self.channel = details["channel"]?.stringValue
        self.isResale = statement.type == .resell
        self.certifiedPreOwned = details["certifiedPreOwned"]?.boolValue ?? false
    }
}
