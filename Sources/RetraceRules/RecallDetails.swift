import CanonicalJSON
import RetraceEvents

/// The details of a `recall` statement (one product, or a lot or serial list as a batch).
public struct RecallDetails: Hashable, Sendable {
    /// The brand owner's recall notice number, repeated by every `recall-remedy` under it.
    public let notice: String
    /// `safety`, `quality`, `regulatory` or `labelling`.
    public let reason: String
    /// The announced remedy: `repair`, `replace`, `refund` or `software-update`.
    public let remedy: String

    public init(_ statement: Statement) throws(RuleViolation) {
        try DetailsAccess.check(statement, is: .recall)
        let details = statement.details
        self.notice = details["notice"]?.stringValue ?? ""
        self.reason = details["reason"]?.stringValue ?? ""
        self.remedy = details["remedy"]?.stringValue ?? ""
    }
}
