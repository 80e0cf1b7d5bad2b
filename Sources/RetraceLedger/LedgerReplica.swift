import CanonicalJSON
import MerkleLog
import RetraceCrypto
import RetraceEvents
import RetraceStorage

/// A verified copy of another log: the same entries, Merkle nodes, chain links, product rows and
/// signed checkpoints as the log it copies, so that every reader of a local ledger works on it.
///
/// A replica holds the log's public key only. It never signs a checkpoint of its own: it takes in
/// entries the log already signed for, through the very code an append runs (so the derived rows
/// are the ones an append would have written, and a statement an append would refuse is refused),
/// and stores the log's own checkpoint once its root is the root the copy reached.
extension Ledger {
    /// A handle on `store` as a copy of the log named by `origin` and `logKey`, with `governance`
    /// as its trust roots; nothing is read or written until ``replicate(_:checkpoint:writer:)``.
    public static func replica(
        store: any LedgerStore,
        origin: String,
        logKey: NoteVerifier,
        governance: [NoteVerifier]
    ) -> Ledger {
        Ledger(store: store, origin: origin, logKey: logKey, trustRoots: governance, logSigner: nil, clock: systemClock)
    }

    /// Appends `entries` (the log's entries from this copy's size on, in log order) inside the
    /// caller's transaction, each with the received time it carries, then stores `note`, the log's
    /// checkpoint for the size reached.
    ///
    /// Runs in `writer` so that the caller can check more (an audit of what was written) before its
    /// transaction commits: a copy is either the old one or the new one, never half of a sync. A
    /// new store first gets the ledger's metadata (format, origin, log key, trust roots).
    /// - Returns: The copy's tree size and root after the entries.
    /// - Throws: ``LedgerError`` naming the first refused entry by its log index (in the reason),
    ///   `.wrongLogKey` when the store holds another ledger, `.malformed` when an entry's bytes or
    ///   the checkpoint do not match what the copy computed.
    @discardableResult
    public func replicate(
        _ entries: [LogEntry],
        checkpoint note: String,
        writer: any LedgerWriter
    ) throws(LedgerError) -> (size: UInt64, root: [UInt8]) {
        do {
            try adoptMetadata(writer)
            let start = try writer.treeSize()
            var trust = CachedTrust(
                rosterHead: try writer.head(of: Self.rosterChain)?.eventID,
                state: try Self.loadTrust(roots: trustRoots, reader: writer)
            )
            var last = start > 0 ? try writer.entry(at: start - 1)?.received : nil
            var position = 0
            // The heads map carried from one group to the next inside this transaction; the
            // ledger's shared index is not told until nothing can roll back.
            var map: HeadsIndex.Version?
            while position < entries.count {
                // Entries the log received in one second went through one commit there: the same
                // received time gives the same entry bytes, and so the same leaves.
                let received = entries[position].received
                if let last, received.secondsSinceEpoch < last {
                    throw LedgerError(
                        .malformed,
                        "entry \(start + UInt64(position)) was received at \(received), before the entry ahead of "
                            + "it; a log's received times never go backwards"
                    )
                }
                var end = position + 1
                while end < entries.count, entries[end].received == received { end += 1 }
                let group = entries[position..<end].map(\.signed)
                do {
                    let done = try commit(
                        group,
                        preauthenticated: .known(authenticateInParallel(group, trust: trust.state)),
                        snapshot: trust,
                        heads: map,
                        now: received,
                        writer: writer
                    )
                    let result = done.result
                    trust = done.trust
                    map = done.heads
                    for (offset, receipt) in result.receipts.enumerated()
                    where receipt.leafHash != MerkleHash.leafHash(entries[position + offset].canonicalBytes) {
                        throw LedgerError(
                            .malformed,
                            "entry \(receipt.index) is not the bytes the log holds for it once copied",
                            statementIndex: position + offset
                        )
                    }
                } catch let error as LedgerError {
                    let index = start + UInt64(position + (error.statementIndex ?? 0))
                    throw LedgerError(
                        error.code,
                        "entry \(index): \(error.rule.map { "rule \($0): " } ?? "")\(error.reason)",
                        product: error.product,
                        rule: error.rule,
                        storage: error.storage
                    )
                }
                last = received.secondsSinceEpoch
                position = end
            }
            let size = try writer.treeSize()
            let root = try MerkleTree.rootHash(size: size, reader: writer)
            let checkpoint: Checkpoint
            do { checkpoint = try Checkpoint.open(note, verifiers: [logKey], origin: origin) } catch {
                throw LedgerError(
                    .malformed,
                    "the checkpoint does not open under \(logKey.name) for \(origin): \(error.reason)"
                )
            }
            guard checkpoint.size == size, checkpoint.rootHash == root else {
                throw LedgerError(
                    .malformed,
                    "the entries copied reach size \(size) with root \(Hex.encode(root)), but the checkpoint is for "
                        + "size \(checkpoint.size) with root \(Hex.encode(checkpoint.rootHash))"
                )
            }
            if let headsRoot = checkpoint.headsRoot {
                let copied = try map?.map.root ?? heads.map(at: size, reader: writer).root
                guard copied == headsRoot else {
                    throw LedgerError(
                        .malformed,
                        "the entries copied give heads root \(Hex.encode(copied)), but the checkpoint of size "
                            + "\(size) commits to \(Hex.encode(headsRoot))"
                    )
                }
            }
            try writer.insert(checkpoint: StoredCheckpoint(size: size, root: root, note: note))
            return (size, root)
        } catch { throw LedgerError.wrap(error) }
    }

    /// A new store takes this ledger's metadata; a store that holds a ledger must hold this one.
    private func adoptMetadata(_ writer: any LedgerWriter) throws {
        let governance = trustRoots.map(\.description).joined(separator: "\n")
        guard let format = try writer.metadata("format") else {
            guard try writer.treeSize() == 0 else {
                throw StorageError(.notALedger, "the store holds entries but no Retrace ledger metadata")
            }
            try writer.setMetadata("format", "retrace/v1")
            try writer.setMetadata("origin", origin)
            try writer.setMetadata("log-key", logKey.description)
            try writer.setMetadata("governance", governance)
            return
        }
        let held = (try writer.metadata("origin"), try writer.metadata("log-key"), try writer.metadata("governance"))
        guard format == "retrace/v1", held.0 == origin, held.1 == logKey.description, held.2 == governance else {
            throw LedgerError(
                .wrongLogKey,
                "the store holds the ledger \(held.0 ?? "?") under log key \(held.1.map { String($0.prefix(40)) } ?? "?"), "
                    + "not a copy of \(origin) under \(logKey.name) with the trust roots given"
            )
        }
    }
}
