import MerkleLog
import RetraceRules

/// Everything a bundle proved.
public struct VerifiedBundle: Sendable {
    public let checkpoint: Checkpoint
    public let products: [VerifiedProduct]
    public let certificate: VerifiedCertificate?
    /// The trust state of the newest roster in the bundle (for naming parties and docks).
    public let trust: TrustState
    /// Whether the chains were proven complete by the checkpoint's heads map (v2 evidence), or
    /// only proven included (v1 evidence, or a checkpoint made before the map existed).
    public let completeness: Completeness

    public enum Completeness: Hashable, Sendable {
        /// Every chain and the roster end where the heads map of this checkpoint says they do.
        case proven(checkpoint: UInt64)
        case notProven

        public var description: String {
            switch self {
            case .proven(let size): "complete as of checkpoint \(size)"
            case .notProven: "completeness not proven"
            }
        }
    }
}
