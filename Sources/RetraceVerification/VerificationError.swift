import CodedErrors

/// Why a product's evidence (from a ledger database or an offline proof bundle) does not verify.
///
/// Equality is on ``code`` only, so tests can compare against a bare code; ``reason`` names what
/// was wrong and where (log index, product, field), for a person reading a refusal.
public struct VerificationError: CodedError {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String {
            case malformedBundle = "malformed-bundle"
            case unsupportedFormat = "unsupported-format"
            case checkpointInvalid = "checkpoint-invalid"
            case inclusionFailed = "inclusion-failed"
            case memberProofFailed = "member-proof-failed"
            case rosterInvalid = "roster-invalid"
            case authenticationFailed = "authentication-failed"
            case chainBroken = "chain-broken"
            case lifecycleViolation = "lifecycle-violation"
            case eventAfterEndOfLife = "event-after-end-of-life"
            case timeInvalid = "time-invalid"
            case certificateMismatch = "certificate-mismatch"
            case notFound = "not-found"
            case invalidScan = "invalid-scan"
            case storage = "storage"
            case incompleteHistory = "incomplete-history"
            case ledgerIntegrityFailure = "ledger-integrity-failure"
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The bundle is not strict canonical JSON of the bundle shape (§Bundle format).
        public static let malformedBundle = Code(.malformedBundle)
        /// The `format` member names a version this verifier does not implement.
        public static let unsupportedFormat = Code(.unsupportedFormat)
        /// The checkpoint is not a note signed by the log key, or is malformed.
        public static let checkpointInvalid = Code(.checkpointInvalid)
        /// An entry's inclusion proof does not lead to the checkpoint's root.
        public static let inclusionFailed = Code(.inclusionFailed)
        /// A batch member's proof does not lead to the statement's `batch.root`.
        public static let memberProofFailed = Code(.memberProofFailed)
        /// The roster chain does not start at a trust root or is not linked.
        public static let rosterInvalid = Code(.rosterInvalid)
        /// A statement's signer is not a valid key of the roster in force, or its signature fails.
        public static let authenticationFailed = Code(.authenticationFailed)
        /// Events are missing, reordered or not linked by `previous`, or the first is not a commission.
        public static let chainBroken = Code(.chainBroken)
        /// Re-applying the lifecycle rules refuses an event.
        public static let lifecycleViolation = Code(.lifecycleViolation)
        /// An event follows the product's recycling or disposal: a clone or a false recycling claim.
        public static let eventAfterEndOfLife = Code(.eventAfterEndOfLife)
        /// A statement is dated too far after its log receive time, or receive times go backwards.
        public static let timeInvalid = Code(.timeInvalid)
        /// A certificate bundle's member chains do not match its certificate's members.
        public static let certificateMismatch = Code(.certificateMismatch)
        /// The product, certificate or checkpoint asked for is not in the ledger.
        public static let notFound = Code(.notFound)
        /// The scanned text is not a product identity.
        public static let invalidScan = Code(.invalidScan)
        /// The ledger store could not be read.
        public static let storage = Code(.storage)
        /// A chain (or the roster) is not the one the checkpoint's heads map commits to: newest
        /// events left out, or a head proof missing where the checkpoint commits to heads.
        public static let incompleteHistory = Code(.incompleteHistory)
        /// Evidence the verifier gathered from a ledger's own database disagrees with what the
        /// ledger signed: its derived rows were deleted, altered or added to.
        public static let ledgerIntegrityFailure = Code(.ledgerIntegrityFailure)

        public var description: String { base.rawValue }
    }

    public let code: Code
    public let reason: String
    /// The log index of the entry that failed, when one did.
    public let index: UInt64?
    /// Event ids (hex) the failure is about, e.g. the recycle event and the event that follows it.
    public let events: [String]

    public init(_ code: Code, _ reason: String, index: UInt64? = nil, events: [String] = []) {
        self.code = code
        self.reason = reason
        self.index = index
        self.events = events
    }

    public var description: String {
        index.map { "\(code) at log index \($0): \(reason)" } ?? "\(code): \(reason)"
    }
}
