import CanonicalJSON
import RetraceCrypto
import RetraceEvents

/// Who was trusted at one position of the log: the roster in force there, with its keys indexed.
///
/// A ledger (or an auditor replaying an export) starts from the trust roots it was configured with,
/// feeds every roster statement to ``applying(roster:)`` in log order, and judges each event with
/// the state current at the event's position. Because each roster is complete and chained to its
/// predecessor, "who was trusted when this was appended" is a pure function of the log prefix.
/// A value type with no shared mutable state, so concurrent ``authenticate(_:)`` calls are safe.
public struct TrustState: Sendable {
    /// The keys that may sign the first roster.
    public let trustRoots: [NoteVerifier]
    /// The roster in force, `nil` before the first roster.
    public private(set) var roster: RosterDocument?
    /// The id of the roster statement in force.
    public private(set) var rosterID: Digest?
    /// The time of the roster statement in force; later rosters may not be dated earlier.
    public private(set) var rosterTime: Timestamp?

    /// Party keys by fingerprint, parsed once per roster rather than once per statement.
    private var keys: [Digest: IndexedKey] = [:]

    private struct IndexedKey: Sendable {
        let party: Int
        let key: PartyKey
    }

    public init(trustRoots: [NoteVerifier]) {
        self.trustRoots = trustRoots
    }

    /// Checks a roster statement and returns the trust state it puts in force.
    ///
    /// The first roster must be signed by a trust root, every later one by a governance key of the
    /// roster in force that is not revoked at the statement's time; it must name the roster in force
    /// as `previous`, be dated no earlier than it, and repeat every revocation it carried.
    public func applying(roster signed: SignedStatement) throws(RuleViolation) -> TrustState {
        let statement = signed.statement
        guard statement.type == .roster else {
            throw RuleViolation(
                .notAnEvent,
                rule: Rule.rosterValid,
                "a \(statement.type) statement is not a roster update"
            )
        }
        guard statement.previous == rosterID else {
            let expected = rosterID.map { "roster \($0.short)" } ?? "no previous roster (this is the first)"
            let found = statement.previous.map { "roster \($0.short)" } ?? "none"
            throw RuleViolation(
                .rosterOutOfOrder,
                rule: Rule.rosterChain,
                "the roster names \(found) as previous; expected \(expected)"
            )
        }
        if let rosterTime, statement.time < rosterTime {
            throw RuleViolation(
                .timeGoesBackwards,
                rule: Rule.rosterTime,
                "the roster is dated \(statement.time), before the roster in force (\(rosterTime))"
            )
        }
        let signers = roster?.governance ?? trustRoots
        guard let key = signers.first(where: { PartyKey.fingerprint(of: $0) == statement.signer }) else {
            let who = roster == nil ? "a trust root" : "a governance key of the roster in force"
            throw RuleViolation(
                .rosterNotGoverned,
                rule: Rule.rosterGoverned,
                "the roster is signed by key \(statement.signer.short), not by \(who)"
            )
        }
        if let revocation = roster?.revocation(of: statement.signer), revocation.time <= statement.time {
            throw RuleViolation(
                .rosterNotGoverned,
                rule: Rule.rosterGoverned,
                "governance key \(key.name) was revoked at \(revocation.time) (\(revocation.reason))"
            )
        }
        guard signed.isSigned(by: key.publicKey) else {
            throw RuleViolation(
                .badSignature,
                rule: Rule.rosterGoverned,
                "the roster's signature does not verify under \(key.name)"
            )
        }
        let document = try RosterDocument(json: .object(statement.details))
        if let old = roster {
            for revocation in old.revocations where !document.revocations.contains(revocation) {
                throw RuleViolation(
                    .invalidRoster,
                    rule: Rule.revocationsPermanent,
                    "the revocation of \(revocation.key.name) at \(revocation.time) is missing or changed"
                )
            }
        }
        var next = TrustState(trustRoots: trustRoots)
        next.roster = document
        next.rosterID = statement.id
        next.rosterTime = statement.time
        for (partyIndex, party) in document.parties.enumerated() {
            for key in party.keys { next.keys[key.fingerprint] = IndexedKey(party: partyIndex, key: key) }
        }
        return next
    }

    /// Resolves who signed an event statement, or refuses it.
    ///
    /// The key must belong to a party of the roster in force, be valid at the statement's time and
    /// not be revoked at or before it (statements signed before a revocation stay valid), and the
    /// signature must verify. The statement's time is the signer's claim; the ledger bounds it by
    /// its own receive time, which is what makes backdating past a revocation visible.
    public func authenticate(_ signed: SignedStatement) throws(RuleViolation) -> Party {
        do {
            return try resolve(signed)
        } catch {
            guard let product = signed.statement.product, error.product == nil else { throw error }
            throw error.about(product.digitalLink)
        }
    }

    private func resolve(_ signed: SignedStatement) throws(RuleViolation) -> Party {
        let statement = signed.statement
        guard statement.type != .roster else {
            throw RuleViolation(
                .notAnEvent,
                rule: Rule.knownKey,
                "roster statements are applied, not authenticated as events"
            )
        }
        guard let roster else {
            throw RuleViolation(.unknownKey, rule: Rule.knownKey, "no roster is in force yet; no party can sign events")
        }
        guard let indexed = keys[statement.signer] else {
            let isGovernance = roster.governance.contains { PartyKey.fingerprint(of: $0) == statement.signer }
            throw RuleViolation(
                .unknownKey,
                rule: Rule.knownKey,
                isGovernance
                    ? "key \(statement.signer.short) is a governance key; governance keys sign only rosters"
                    : "key \(statement.signer.short) belongs to no party of the roster in force"
            )
        }
        let party = roster.parties[indexed.party]
        let key = indexed.key
        guard signed.isSigned(by: key.verifier.publicKey) else {
            throw RuleViolation(
                .badSignature,
                rule: Rule.signature,
                "the signature does not verify under \(key.verifier.name) of \(party.id)"
            )
        }
        guard key.validFrom <= statement.time else {
            throw RuleViolation(
                .keyNotYetValid,
                rule: Rule.keyValidity,
                "key \(key.verifier.name) of \(party.id) is valid from \(key.validFrom); "
                    + "the statement is dated \(statement.time)"
            )
        }
        if let until = key.validUntil, statement.time >= until {
            throw RuleViolation(
                .keyExpired,
                rule: Rule.keyValidity,
                "key \(key.verifier.name) of \(party.id) was retired at \(until); "
                    + "the statement is dated \(statement.time)"
            )
        }
        if let revocation = roster.revocation(of: statement.signer), revocation.time <= statement.time {
            throw RuleViolation(
                .keyRevoked,
                rule: Rule.keyRevocation,
                "key \(key.verifier.name) of \(party.id) was revoked at \(revocation.time) (\(revocation.reason)); "
                    + "the statement is dated \(statement.time)"
            )
        }
        return party
    }

    /// The party with this id in the roster in force.
    public func party(id: String) -> Party? { roster?.party(id: id) }

    /// The party and key a fingerprint belongs to, without checking any signature or validity.
    public func key(fingerprint: Digest) -> (party: Party, key: PartyKey)? {
        guard let roster, let indexed = keys[fingerprint] else { return nil }
        return (roster.parties[indexed.party], indexed.key)
    }
}
