import CanonicalJSON
import RetraceEvents

/// The details of a `recycle` statement: a recycler's certificate, for one product or a pallet.
public struct RecycleDetails: Hashable, Sendable {
    /// The certificate of recycling the recycler issued.
    public let certificate: String
    public let method: String
    /// Grams recovered per material (for a batch statement: for the whole batch).
    public let materials: [String: Int64]

    public init(_ statement: Statement) throws(RuleViolation) {
        try DetailsAccess.check(statement, is: .recycle)
        let details = statement.details
        self.certificate = details["certificate"]?.stringValue ?? ""
        self.method = details["method"]?.stringValue ?? ""
        self.materials = DetailsAccess.materials(details["materials"])
    }

    /// Total grams recovered.
    public var totalGrams: Int64 { materials.values.reduce(0, +) }
}
