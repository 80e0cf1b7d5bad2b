import RetraceEvents
import RetraceIdentity
import RetraceRules

/// One event as an audit accepted it: authenticated under the roster in force at its position,
/// linked to its product's chain and allowed by the lifecycle rules.
///
/// Readers that derive something from a ledger (an EPCIS export, return insights) take events
/// from here rather than from the stored rows, so that what they report is what a full audit
/// vouches for, judged the same way, and never a row the audit would refuse.
public struct AuditedEvent: Sendable {
    /// One product the event moved, with its state before (`nil` for a commissioning) and after.
    public struct Step: Sendable {
        public let product: SGTIN
        public let before: ProductState?
        public let after: ProductState
    }

    /// The entry's position in the log.
    public let index: UInt64
    public let entry: LogEntry
    /// The party whose key signed it, as the roster in force named it.
    public let signer: Party
    /// The roster in force when the event was judged (to name other parties and their sites).
    public let trust: TrustState
    /// The products accepted, in member order for a batch. A product whose chain broke earlier
    /// in the audit is absent: nothing more about it is vouched for.
    public let steps: [Step]

    public var statement: Statement { entry.statement }
}
