import MerkleLog

/// A reader that wraps another and changes only some answers (read-ahead nodes, a pinned
/// checkpoint, altered entries in a tampering test): every method it does not implement itself
/// is forwarded to ``base``, so a new `LedgerReader` method needs one forward here, not one per
/// wrapper.
public protocol ForwardingLedgerReader: LedgerReader {
    var base: any LedgerReader { get }
}

extension ForwardingLedgerReader {
    public func hashes(of nodes: [NodeID]) throws -> [NodeID: [UInt8]] { try base.hashes(of: nodes) }
    public func metadata(_ key: String) throws -> String? { try base.metadata(key) }
    public func treeSize() throws -> UInt64 { try base.treeSize() }
    public func entry(at index: UInt64) throws -> StoredEntry? { try base.entry(at: index) }
    public func forEachEntry(from: UInt64, to: UInt64, _ body: (StoredEntry) throws -> Void) throws {
        try base.forEachEntry(from: from, to: to, body)
    }
    public func entryIndex(eventID: [UInt8]) throws -> UInt64? { try base.entryIndex(eventID: eventID) }
    public func head(of chain: String) throws -> ChainLink? { try base.head(of: chain) }
    public func chain(_ chain: String) throws -> [ChainLink] { try base.chain(chain) }
    public func chainHeads(below size: UInt64) throws -> [ChainLink] { try base.chainHeads(below: size) }
    public func product(_ product: String) throws -> ProductRow? { try base.product(product) }
    public func products(withSerial serial: String) throws -> [ProductRow] { try base.products(withSerial: serial) }
    public func chainLinks(after lower: String?, through upper: String?) throws -> [ChainLink] {
        try base.chainLinks(after: lower, through: upper)
    }
    public func products(after lower: String?, through upper: String?) throws -> [ProductRow] {
        try base.products(after: lower, through: upper)
    }
    public func latestCheckpoint() throws -> StoredCheckpoint? { try base.latestCheckpoint() }
    public func checkpoints() throws -> [StoredCheckpoint] { try base.checkpoints() }
    public func checkpoint(size: UInt64) throws -> StoredCheckpoint? { try base.checkpoint(size: size) }
}
