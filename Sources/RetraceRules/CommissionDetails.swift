import CanonicalJSON
import RetraceEvents

/// The details of a `commission` statement, read after validation against the catalogue.
public struct CommissionDetails: Hashable, Sendable {
    /// The production lot (GS1 AI 10), if given.
    public let lot: String?
    /// The declared mass in grams, the reference for a recycler's mass balance (`L20`).
    public let massGrams: Int64?
    /// Declared grams per material, e.g. `["aluminium": 38, "lithium": 2]`.
    public let materials: [String: Int64]

    public init(_ statement: Statement) throws(RuleViolation) {
        try DetailsAccess.check(statement, is: .commission)
        let details = statement.details
        self.lot = details["lot"]?.stringValue
        self.massGrams = details["massGrams"]?.integerValue
        self.materials = DetailsAccess.materials(details["materials"])
    }
}
