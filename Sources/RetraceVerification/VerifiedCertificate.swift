import RetraceEvents
import RetraceRules

/// A batch statement (a recycler's pallet certificate) whose members, signature and inclusion verified.
public struct VerifiedCertificate: Sendable {
    public let index: UInt64
    public let id: Digest
    public let entry: LogEntry
    public let members: [BatchMember]
    public let party: Party
    /// The trust state in force at the certificate's log position (for accreditation checks).
    public let trust: TrustState
}
