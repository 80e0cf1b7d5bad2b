import CanonicalJSON
import RetraceEvents

/// The details of the return steps a dock verifier reads: `return-authorize` (RMA and reason),
/// `return-receive` (condition on arrival and the identity scanned) and `inspect` (grade).
public struct ReturnDetails: Hashable, Sendable {
    public let rma: String?
    /// The reason code of an authorisation, e.g. `wrong-size`, `defective`.
    public let reason: String?
    /// The condition on arrival of a receipt, e.g. `sealed`, `damaged`.
    public let condition: String?
    /// The raw identity the dock scanned.
    public let scanned: String?
    /// The inspection grade, e.g. `as-new`, `defective`.
    public let grade: String?
    /// Digests of the photos and reports an inspection is based on.
    public let evidence: [Digest]

    public init(_ statement: Statement) throws(RuleViolation) {
        guard [.returnAuthorize, .returnReceive, .inspect].contains(statement.type) else {
            throw RuleViolation(
                .invalidDetails,
                rule: Rule.details,
                "a \(statement.type) statement is not a return step"
            )
        }
        try Catalogue.validate(statement)
        let details = statement.details
        self.rma = details["rma"]?.stringValue
        self.reason = details["reason"]?.stringValue
        self.condition = details["condition"]?.stringValue
        self.scanned = details["scanned"]?.stringValue
        self.grade = details["grade"]?.stringValue
        self.evidence = (details["evidence"]?.arrayValue ?? []).compactMap { DetailsAccess.digest($0) }
    }
}
