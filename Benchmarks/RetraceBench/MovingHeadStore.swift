import MerkleLog
import RetraceStorage
import Synchronization

/// A read-only view of a ledger store whose "latest checkpoint" can be pinned to any stored one.
///
/// The verdict benchmark rotates it through the tail's checkpoints so that every scan of a warm
/// pass sees a different signed head than the scan before, as a dock does on a ledger that other
/// sites keep appending to: the checkpoint, and with it every inclusion proof, is new each time.
final class MovingHeadStore: LedgerStore {
    let base: any LedgerStore
    private let pinned = Mutex<UInt64?>(nil)

    init(base: any LedgerStore) { self.base = base }

    /// Pins the latest checkpoint to the stored one of `size` (`nil`: the real latest).
    func pin(_ size: UInt64?) { pinned.withLock { $0 = size } }

    func read<T>(_ body: (any LedgerReader) throws -> T) throws -> T {
        let size = pinned.withLock { $0 }
        return try base.read { reader in try body(PinnedReader(base: reader, pinned: size)) }
    }

    func write<T>(_ body: (any LedgerWriter) throws -> T) throws -> T {
        throw StorageError(.readOnly, "the benchmark's view of the ledger is read-only")
    }
}

struct PinnedReader: ForwardingLedgerReader {
    let base: any LedgerReader
    let pinned: UInt64?

    func latestCheckpoint() throws -> StoredCheckpoint? {
        guard let pinned else { return try base.latestCheckpoint() }
        return try base.checkpoint(size: pinned)
    }
}

/// Counts the Merkle nodes a proof reads (each one SQLite lookup in ``SQLiteLedgerStore``).
final class CountingNodeReader: MerkleNodeReader {
    let base: any LedgerReader
    private(set) var nodesRead = 0

    init(base: any LedgerReader) { self.base = base }

    func hashes(of nodes: [NodeID]) throws -> [NodeID: [UInt8]] {
        nodesRead += nodes.count
        return try base.hashes(of: nodes)
    }
}
