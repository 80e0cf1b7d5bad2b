import RetraceCrypto

/// The only things an offline verifier trusts: the governance keys that sign the first roster,
/// the log's checkpoint key and, optionally, the log's origin.
///
/// Everything else (rosters, events, proofs) is checked against these, so a bundle can travel by
/// e-mail or USB stick and still be believed or refused on its own.
public struct TrustAnchors: Sendable, Hashable {
    public let governance: [NoteVerifier]
    public let logKey: NoteVerifier
    /// The origin the checkpoint must carry; `nil` accepts the origin the log key signed.
    public let origin: String?

    public init(governance: [NoteVerifier], logKey: NoteVerifier, origin: String? = nil) {
        self.governance = governance
        self.logKey = logKey
        self.origin = origin
    }
}
