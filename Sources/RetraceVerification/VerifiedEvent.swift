import RetraceEvents
import RetraceRules

/// One event of a product whose signature, inclusion, chain link and lifecycle rule all verified.
public struct VerifiedEvent: Hashable, Sendable {
    public let index: UInt64
    public let id: Digest
    public let entry: LogEntry
    /// For a batch statement: this product's member and its position in the batch.
    public let member: BatchMember?
    public let memberIndex: UInt64?
    /// Who signed it, as the roster in force at its log position says.
    public let party: Party
    /// The product's state after this event, recomputed by ``Lifecycle/apply``.
    public let state: ProductState

    public var statement: Statement { entry.statement }
}
