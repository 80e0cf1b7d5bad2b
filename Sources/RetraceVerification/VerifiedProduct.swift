import MerkleLog
import RetraceEvents
import RetraceIdentity
import RetraceRules

/// A product's verified history: every event re-checked, and the checkpoint it was checked against.
public struct VerifiedProduct: Sendable {
    public let product: SGTIN
    /// Chain order, commission first; never empty.
    public let events: [VerifiedEvent]
    /// The state after the last event (recomputed, never read from storage).
    public let state: ProductState
    public let checkpoint: Checkpoint
    /// Whether the checkpoint's heads map proved this chain complete.
    public internal(set) var completeness: VerifiedBundle.Completeness = .notProven
    /// The class in force for the product's GTIN, when the evidence carried its class chain and
    /// the chain has a statement; `nil` otherwise (no class published, or not carried: v1 evidence).
    public internal(set) var productClass: VerifiedProductClass?

    /// The passport id: the id of the commission statement.
    public var passport: Digest { state.passport }
}
