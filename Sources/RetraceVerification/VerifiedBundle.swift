import MerkleLog
import RetraceRules

/// Everything a bundle proved.
public struct VerifiedBundle: Sendable {
    public let checkpoint: Checkpoint
    public let products: [VerifiedProduct]
    public let certificate: VerifiedCertificate?
    /// The trust state of the newest roster in the bundle (for naming parties and docks).
    public let trust: TrustState
}
