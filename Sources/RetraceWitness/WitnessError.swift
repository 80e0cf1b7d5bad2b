import CodedErrors

/// A failure in witnessing: a cosigner key, a cosignature, a witness policy, a tlog-witness
/// request or a tlog-proof file that is malformed, or evidence that does not meet a policy.
///
/// Equality is on ``code`` only, so tests can match the kind of failure without the wording of
/// ``reason``, which says what was wrong, where, and what was expected.
public struct WitnessError: CodedError {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case invalidKey, malformedCosignature, cosignatureInvalid
            case malformedPolicy, malformedRequest, malformedProof
            case unknownLog, logSignatureInvalid, quorumNotMet, proofInvalid, stale
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A cosigner key (vkey or private key) is not in the C2SP form for type 0x04.
        public static let invalidKey = Code(.invalidKey)
        /// A signature line of a known cosigner is not a 4-byte key id, 8-byte time and 64-byte signature.
        public static let malformedCosignature = Code(.malformedCosignature)
        /// A known cosigner's signature does not verify over its message.
        public static let cosignatureInvalid = Code(.cosignatureInvalid)
        /// A C2SP tlog-policy file breaks the syntax or its rules (names, thresholds, order).
        public static let malformedPolicy = Code(.malformedPolicy)
        /// An add-checkpoint request body breaks the C2SP tlog-witness syntax.
        public static let malformedRequest = Code(.malformedRequest)
        /// A tlog-proof file breaks the C2SP tlog-proof@v1 syntax.
        public static let malformedProof = Code(.malformedProof)
        /// The checkpoint's origin is not a log the verifier (or witness) knows.
        public static let unknownLog = Code(.unknownLog)
        /// The checkpoint is not signed by the log's key, or that signature does not verify.
        public static let logSignatureInvalid = Code(.logSignatureInvalid)
        /// The valid cosignatures do not satisfy the policy's quorum.
        public static let quorumNotMet = Code(.quorumNotMet)
        /// An inclusion proof does not lead from the entry to the checkpoint's root.
        public static let proofInvalid = Code(.proofInvalid)
        /// The newest witnessed time is older than the verifier's maximum age.
        public static let stale = Code(.stale)

        public var description: String { base.rawValue }
    }

    public let code: Code
    public let reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { reason }
}
