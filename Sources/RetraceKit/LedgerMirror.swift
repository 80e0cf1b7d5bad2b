import CanonicalJSON
import Foundation
import MerkleLog
import RetraceAudit
import RetraceCrypto
import RetraceEvents
import RetraceLedger
import RetraceStorage
import RetraceVerification

/// A verified local copy of a remote ledger, kept in any ``LedgerStore`` (an SQLite file or a
/// PostgreSQL schema), that grows from the last checkpoint it verified: an auditor's own evidence
/// that the log only grew, and a ledger every local reader (`scan`, `history`, `audit --db`) uses
/// offline under the same trust roots.
///
/// The store holds what a local ledger holds — entries, Merkle nodes, chain links, product rows,
/// the log's signed checkpoints — written by the append path itself (``Ledger/replicate(_:checkpoint:writer:)``),
/// never a checkpoint of its own. Each sync: the service's checkpoint verifies under the log key;
/// it is not older than the mirror's (a smaller size is a rollback, the same size with another root
/// a fork); a consistency proof links the two; only the new entries are fetched; then, in **one
/// store transaction**, they are appended with their received times, the new checkpoint is stored
/// once the copy's root equals its root, and the incremental audit of spec/audit.md §4 runs on that
/// very transaction from the checkpoint verified before. The transaction commits only if the audit
/// passes. A sync killed at any point leaves the store at its last verified checkpoint: the next
/// one starts from there, and nothing needs cutting back.
public struct LedgerMirror: Sendable {
    public let store: any LedgerStore
    /// Where the entries come from: a service's `/v1` API (``RemoteLedger``) or C2SP tiles on any
    /// static host (``TiledSource``); either way nothing it says is believed unproven.
    public let ledger: any MirrorSource

    public init(store: any LedgerStore, ledger: any MirrorSource) {
        self.store = store
        self.ledger = ledger
    }

    /// What one sync did.
    public struct Sync: Sendable {
        /// The size of the checkpoint the mirror had verified before (0 for a new mirror).
        public let from: UInt64
        /// The size of the checkpoint the mirror holds now (`from` when nothing was written).
        public let to: UInt64
        /// The size of the service's checkpoint.
        public let served: UInt64
        /// The audit of what this sync took in: the new entries only, from the checkpoint verified
        /// before (the whole log for a new mirror).
        public let report: AuditReport
        /// Entries fetched and proven in this sync.
        public var fetched: UInt64 { served - from }
        /// Whether the new entries and checkpoint were committed (only when the audit passed).
        public var committed: Bool { to == served }
    }

    /// The service showed something that contradicts what the mirror verified before, or a log
    /// whose entries the mirror's ledger refuses. Nothing was written.
    public struct Inconsistency: Error, Sendable, CustomStringConvertible {
        public enum Kind: String, Sendable {
            case rollback, fork
            case entriesMismatch = "entries-mismatch"
            case refusedEntry = "refused-entry"
            case otherLedger = "other-ledger"
        }
        public let kind: Kind
        public let detail: String
        public var description: String { "\(kind.rawValue): \(detail)" }
    }

    /// The audit found a failure in what was written, so the transaction was rolled back.
    struct FailedAudit: Error {
        let report: AuditReport
    }

    /// Brings the mirror up to the service's latest checkpoint, verifying as it goes.
    /// - Parameters:
    ///   - threads: Signature-checking workers of the audit (1 or 2).
    ///   - keepGoing: List every audit failure instead of stopping at the first.
    /// - Throws: ``Inconsistency`` for a rollback, a fork, entries that do not rebuild the signed
    ///   root or that the ledger refuses; ``ClientError`` or ``VerificationError`` for the service's
    ///   answers; `StorageError` or `AuditError` for the store.
    public func sync(threads: Int = 2, keepGoing: Bool = false) async throws -> Sync {
        let held = try heldCheckpoint()
        let (latest, note) = try await ledger.checkpoint()
        let from = held?.size ?? 0
        let origin = ledger.anchors.origin ?? latest.origin
        let auditor = Auditor(
            trustRoots: ledger.anchors.governance,
            logKey: ledger.anchors.logKey,
            origin: origin,
            threads: threads,
            keepGoing: keepGoing
        )
        if let held {
            let previous = try ledger.openCheckpoint(held.note, what: "the mirror's last checkpoint")
            guard previous.origin == latest.origin else {
                throw Inconsistency(
                    kind: .otherLedger,
                    detail: "the mirror holds \(previous.origin), the service serves \(latest.origin)"
                )
            }
            try await checkConsistency(previous: previous, latest: latest)
            if latest.size == previous.size {
                let report = try store.read { reader in try auditor.audit(reader: reader, since: held.note) }
                return Sync(from: from, to: from, served: from, report: report)
            }
        }
        let entries = try await ledger.entries(from: from, to: latest.size)
        let replica = Ledger.replica(
            store: store,
            origin: origin,
            logKey: ledger.anchors.logKey,
            governance: ledger.anchors.governance
        )
        do {
            let report = try store.write { writer in
                do { try replica.replicate(entries, checkpoint: note, writer: writer) } catch let error as LedgerError {
                    throw Self.inconsistency(error)
                }
                let report =
                    try held.map { try auditor.audit(reader: writer, since: $0.note) }
                    ?? auditor.audit(reader: writer)
                guard report.passed else { throw FailedAudit(report: report) }
                return report
            }
            return Sync(from: from, to: latest.size, served: latest.size, report: report)
        } catch let failed as FailedAudit {
            return Sync(from: from, to: from, served: latest.size, report: failed.report)
        }
    }

    /// The last checkpoint the mirror verified (`nil` for an empty store). A mirror commits its
    /// entries and their checkpoint together, so its size is always its last checkpoint's.
    func heldCheckpoint() throws -> StoredCheckpoint? {
        try store.read { reader in
            let size = try reader.treeSize()
            let latest = try reader.latestCheckpoint()
            guard size == (latest?.size ?? 0) else {
                throw Inconsistency(
                    kind: .otherLedger,
                    detail: "the store holds \(size) entries but its last checkpoint covers \(latest?.size ?? 0): "
                        + "it is not a mirror (a mirror commits its entries with their checkpoint)"
                )
            }
            return latest
        }
    }

    /// The service's checkpoint must extend the mirror's: not smaller, the same root at the same
    /// size, and a consistency proof from the mirror's to it.
    func checkConsistency(previous: Checkpoint, latest: Checkpoint) async throws {
        if latest.size < previous.size {
            throw Inconsistency(
                kind: .rollback,
                detail: "the service's checkpoint has size \(latest.size), older than size \(previous.size) "
                    + "that this mirror verified before: the log was rolled back or entries were dropped"
            )
        }
        if latest.size == previous.size {
            guard latest.rootHash == previous.rootHash else {
                throw Inconsistency(
                    kind: .fork,
                    detail: "size \(latest.size) now has root \(Hex.encode(latest.rootHash)), "
                        + "but this mirror verified root \(Hex.encode(previous.rootHash)) for it"
                )
            }
            return
        }
        do {
            try await ledger.proveConsistency(
                from: (previous.size, previous.rootHash),
                to: (latest.size, latest.rootHash)
            )
        } catch let error as MerkleError {
            throw Inconsistency(
                kind: .fork,
                detail: "checkpoint \(latest.size) is not consistent with checkpoint "
                    + "\(previous.size) that this mirror verified: \(error)"
            )
        }
    }

    static func inconsistency(_ error: LedgerError) -> Inconsistency {
        switch error.code {
        case .wrongLogKey: return Inconsistency(kind: .otherLedger, detail: error.reason)
        case .malformed where error.rule == nil: return Inconsistency(kind: .entriesMismatch, detail: error.reason)
        default: return Inconsistency(kind: .refusedEntry, detail: error.reason)
        }
    }
}
