import MerkleLog
import RetraceStorage

/// A store that hands out altered entries, standing in for a database someone edited by hand.
struct TamperingStore: LedgerStore {
    let base: SQLiteLedgerStore
    let alter: @Sendable (StoredEntry) -> StoredEntry

    init(base: SQLiteLedgerStore, alter: @escaping @Sendable (StoredEntry) -> StoredEntry) {
        self.base = base
        self.alter = alter
    }

    func read<T>(_ body: (any LedgerReader) throws -> T) throws -> T {
        try base.read { reader in try body(TamperingReader(base: reader, alter: alter)) }
    }

    func write<T>(_ body: (any LedgerWriter) throws -> T) throws -> T {
        throw StorageError(.readOnly, "the tampering store is read-only")
    }
}

struct TamperingReader: LedgerReader {
    let base: any LedgerReader
    let alter: @Sendable (StoredEntry) -> StoredEntry

    func hashes(of nodes: [NodeID]) throws -> [NodeID: [UInt8]] { try base.hashes(of: nodes) }
    func metadata(_ key: String) throws -> String? { try base.metadata(key) }
    func treeSize() throws -> UInt64 { try base.treeSize() }
    func entry(at index: UInt64) throws -> StoredEntry? { try base.entry(at: index).map(alter) }
    func forEachEntry(from: UInt64, to: UInt64, _ body: (StoredEntry) throws -> Void) throws {
        try base.forEachEntry(from: from, to: to) { try body(alter($0)) }
    }
    func entryIndex(eventID: [UInt8]) throws -> UInt64? { try base.entryIndex(eventID: eventID) }
    func head(of chain: String) throws -> ChainLink? { try base.head(of: chain) }
    func chain(_ chain: String) throws -> [ChainLink] { try base.chain(chain) }
    func product(_ product: String) throws -> ProductRow? { try base.product(product) }
    func products(withSerial serial: String) throws -> [ProductRow] { try base.products(withSerial: serial) }
    func latestCheckpoint() throws -> StoredCheckpoint? { try base.latestCheckpoint() }
    func checkpoints() throws -> [StoredCheckpoint] { try base.checkpoints() }
    func checkpoint(size: UInt64) throws -> StoredCheckpoint? { try base.checkpoint(size: size) }
}
