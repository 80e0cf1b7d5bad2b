import MerkleLog
import RetraceCrypto
import RetraceStorage
import RetraceVerification
import RetraceWitness
import RetraceWitnessService

/// How `retrace serve --witness-policy` publishes checkpoints: the cosigned one when witnesses
/// have answered, and, with `--require-quorum`, none that lacks the policy's quorum.
public struct WitnessPublication: Sendable {
    public let gatherer: CosignatureGatherer
    public let requireQuorum: Bool

    public init(gatherer: CosignatureGatherer, requireQuorum: Bool) {
        self.gatherer = gatherer
        self.requireQuorum = requireQuorum
    }

    /// The gatherer's view of a ledger store.
    public static func log(store: any LedgerStore, logKey: NoteVerifier) -> CosignatureGatherer.Log {
        CosignatureGatherer.Log(
            latest: { try store.read { try $0.latestCheckpoint()?.note } },
            consistencyProof: { from, to in
                try store.read { try MerkleTree.consistencyProof(from: from, to: to, reader: $0) }
            },
            logKey: logKey
        )
    }

    /// The note `/checkpoint` serves, given the newest one signed; `nil` means nothing may be
    /// published yet (quorum required and never reached).
    func published(latest: StoredCheckpoint) -> String? {
        if requireQuorum { return gatherer.witnessed }
        if let cosigned = gatherer.cosigned, cosigned.size == latest.size { return cosigned.note }
        return latest.note
    }

    /// "witnessed 2026-12-01T10:00Z by 2 of 3 (checkpoint 261)" for the newest cosigned
    /// checkpoint, as the product page shows it; `nil` before any witness answered.
    var summary: String? {
        guard let cosigned = gatherer.cosigned,
            let witnessed = try? WitnessedCheckpoint(
                note: cosigned.note,
                policy: gatherer.policy,
                logKeys: [gatherer.log.logKey]
            )
        else { return nil }
        return "\(witnessed.summary) (checkpoint \(witnessed.checkpoint.size))"
    }

    /// A bundle's checkpoint with the witnesses' cosignatures added when they cosigned that very checkpoint.
    func cosignedBundle(_ bundle: ProofBundle) -> ProofBundle {
        guard let cosigned = gatherer.cosigned,
            let mine = try? SignedNote(parsing: bundle.checkpoint),
            let theirs = try? SignedNote(parsing: cosigned.note),
            mine.text == theirs.text
        else { return bundle }
        return bundle.withCheckpoint(cosigned.note)
    }
}
