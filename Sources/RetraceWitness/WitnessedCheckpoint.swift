import MerkleLog
import RetraceCrypto

/// A checkpoint verified under a witness policy: signed by a log the policy lists, with the
/// cosignatures of the policy's witnesses that verify, and whether they make a quorum.
///
/// Verification looks signature lines up by (name, key id), so the order of the lines does not
/// matter and lines by keys the policy does not list are ignored, as signed-note says. A line
/// that does name a known key but fails to verify makes the whole note invalid (signed-note's
/// rule for a known key): a witness's broken cosignature is a tampered note, not a missing one.
public struct WitnessedCheckpoint: Sendable {
    /// One verified cosignature: the witness's name in the policy and when it signed.
    public struct Witnessing: Sendable, Hashable {
        public let witness: String
        public let keyName: String
        public let time: UInt64
    }

    public let checkpoint: Checkpoint
    /// The checkpoint body that was signed (the note text).
    public let text: String
    /// Valid cosignatures by policy witnesses, at most one per witness (the newest), sorted by name.
    public let witnessings: [Witnessing]
    public let quorumMet: Bool
    public let policy: WitnessPolicy

    /// Verifies a transmitted note.
    ///
    /// - Parameters:
    ///   - logKeys: the log keys to accept; `nil` takes the policy's `log` lines whose key name
    ///     equals the checkpoint's origin (C2SP: a log key's name is its origin).
    ///   - origin: the origin the caller expects, if it knows one.
    /// - Throws: ``WitnessError/Code/unknownLog``, ``WitnessError/Code/logSignatureInvalid``,
    ///   ``WitnessError/Code/malformedCosignature`` or ``WitnessError/Code/cosignatureInvalid``.
    ///   Not meeting the quorum is not an error here (see ``quorumMet`` and ``requireQuorum()``).
    public init(
        note noteText: String,
        policy: WitnessPolicy,
        logKeys: [NoteVerifier]? = nil,
        origin: String? = nil
    )
        throws(WitnessError)
    {
        let note: SignedNote
        do { note = try SignedNote(parsing: noteText) } catch {
            throw WitnessError(.logSignatureInvalid, "the checkpoint is not a signed note: \(error.reason)")
        }
        let checkpoint: Checkpoint
        do { checkpoint = try Checkpoint(parsing: note.text) } catch {
            throw WitnessError(.logSignatureInvalid, "the note is not a checkpoint: \(error.reason)")
        }
        if let origin, checkpoint.origin != origin {
            throw WitnessError(.unknownLog, "checkpoint origin is \"\(checkpoint.origin)\", expected \"\(origin)\"")
        }
        let keys = logKeys ?? policy.log(origin: checkpoint.origin)
        guard !keys.isEmpty else {
            throw WitnessError(
                .unknownLog,
                "no log in the policy has a key named \"\(checkpoint.origin)\" (the checkpoint's origin)"
            )
        }
        do { try note.verify(with: keys) } catch {
            throw WitnessError(.logSignatureInvalid, "the log's signature: \(error.reason)")
        }
        var newest: [String: Witnessing] = [:]
        for line in note.signatures {
            guard
                let witness = policy.witnesses.first(where: { $0.key.name == line.name && $0.key.keyID == line.keyID })
            else {
                continue
            }
            let cosignature = try Cosignature(line)
            guard cosignature.isValid(for: note.text, key: witness.key) else {
                throw WitnessError(
                    .cosignatureInvalid,
                    "the cosignature by \(witness.name) (\(line.name)) at time \(cosignature.time) does not verify over the checkpoint"
                )
            }
            if (newest[witness.name]?.time ?? 0) <= cosignature.time {
                newest[witness.name] = Witnessing(witness: witness.name, keyName: line.name, time: cosignature.time)
            }
        }
        self.checkpoint = checkpoint
        self.text = note.text
        self.witnessings = newest.values.sorted { $0.witness < $1.witness }
        self.quorumMet = policy.isSatisfied(by: Set(newest.keys))
        self.policy = policy
    }

    /// The time by which the quorum had witnessed the checkpoint: the oldest cosignature time
    /// still needed, i.e. the largest t such that the witnesses that signed at or after t still
    /// make a quorum. `nil` when there is no quorum (or the quorum is `none` and nobody signed).
    public var witnessedAt: UInt64? {
        guard quorumMet else { return nil }
        // Try cut-offs from newest to oldest; the first that still satisfies the quorum wins.
        for time in Set(witnessings.map(\.time)).sorted(by: >) {
            let fresh = Set(witnessings.filter { $0.time >= time }.map(\.witness))
            if policy.isSatisfied(by: fresh) { return time }
        }
        return nil
    }

    public func requireQuorum() throws(WitnessError) {
        guard quorumMet else {
            let who = witnessings.map(\.witness).joined(separator: ", ")
            throw WitnessError(
                .quorumNotMet,
                "checkpoint \(checkpoint.size) of \(checkpoint.origin) is cosigned by \(witnessings.count) policy "
                    + "witness(es) (\(who.isEmpty ? "none" : who)); the quorum needs \(policy.quorumDescription)"
            )
        }
    }

    /// "witnessed 2026-12-01T10:00Z by 2 of 3", the summary verifiers print.
    public var summary: String {
        let total = policy.witnesses.count
        guard let at = witnessedAt else {
            return
                "not witnessed by a quorum (\(witnessings.count) of \(total) witnesses cosigned; quorum \(policy.quorumDescription))"
        }
        if policy.quorum == nil && witnessings.isEmpty { return "no witnesses required (quorum none)" }
        return "witnessed \(Self.minuteUTC(at)) by \(witnessings.count) of \(total)"
    }

    /// `2026-12-01T10:00Z`: minutes are the precision anyone reading a freshness line needs.
    public static func minuteUTC(_ seconds: UInt64) -> String {
        let days = Int64(seconds / 86_400)
        let rest = Int(seconds % 86_400)
        // Civil-from-days (Howard Hinnant's algorithm), so the core needs no Foundation calendar.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(year)-\(two(month))-\(two(day))T\(two(Int64(rest / 3_600))):\(two(Int64(rest % 3_600 / 60)))Z"
    }

    /// Refuses evidence whose witnessed time is more than `maxAge` seconds before `now`.
    public func requireFresh(now: UInt64, maxAge: UInt64) throws(WitnessError) {
        try requireQuorum()
        guard let at = witnessedAt else {
            throw WitnessError(.stale, "checkpoint \(checkpoint.size) carries no witnessed time")
        }
        if now > at, now - at > maxAge {
            throw WitnessError(
                .stale,
                "the evidence was last witnessed \(Self.minuteUTC(at)) (checkpoint \(checkpoint.size)), "
                    + "\(Self.duration(now - at)) before \(Self.minuteUTC(now)); the maximum age is \(Self.duration(maxAge))"
            )
        }
    }

    /// `6d 18h 59m`, `45s`: whole units, largest first, zeros left out.
    static func duration(_ seconds: UInt64) -> String {
        guard seconds >= 60 else { return "\(seconds)s" }
        let parts = [(seconds / 86_400, "d"), (seconds % 86_400 / 3_600, "h"), (seconds % 3_600 / 60, "m")]
        return parts.filter { $0.0 > 0 }.map { "\($0.0)\($0.1)" }.joined(separator: " ")
    }

    /// Parses `90s`, `15m`, `24h`, `7d` (a plain number is seconds).
    public static func parseDuration(_ text: String) -> UInt64? {
        let units: [Character: UInt64] = ["s": 1, "m": 60, "h": 3_600, "d": 86_400]
        var digits = Substring(text)
        var unit: UInt64 = 1
        if let last = text.last, let factor = units[last] {
            unit = factor
            digits = digits.dropLast()
        }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let value = UInt64(digits) else { return nil }
        let (product, overflow) = value.multipliedReportingOverflow(by: unit)
        return overflow ? nil : product
    }
}
