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

struct PinnedReader: LedgerReader {
    let base: any LedgerReader
    let pinned: UInt64?

    func hashes(of nodes: [NodeID]) throws -> [NodeID: [UInt8]] { try base.hashes(of: nodes) }
    func metadata(_ key: String) throws -> String? { try base.metadata(key) }
    func treeSize() throws -> UInt64 { try base.treeSize() }
    func entry(at index: UInt64) throws -> StoredEntry? { try base.entry(at: index) }
    func forEachEntry(from: UInt64, to: UInt64, _ body: (StoredEntry) throws -> Void) throws {
        try base.forEachEntry(from: from, to: to, body)
    }
    func entryIndex(eventID: [UInt8]) throws -> UInt64? { try base.entryIndex(eventID: eventID) }
    func head(of chain: String) throws -> ChainLink? { try base.head(of: chain) }
    func chain(_ chain: String) throws -> [ChainLink] { try base.chain(chain) }
    func product(_ product: String) throws -> ProductRow? { try base.product(product) }
    func products(withSerial serial: String) throws -> [ProductRow] { try base.products(withSerial: serial) }
    func latestCheckpoint() throws -> StoredCheckpoint? {
        guard let pinned else { return try base.latestCheckpoint() }
        return try base.checkpoint(size: pinned)
    }
    func checkpoints() throws -> [StoredCheckpoint] { try base.checkpoints() }
    func checkpoint(size: UInt64) throws -> StoredCheckpoint? { try base.checkpoint(size: size) }
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
