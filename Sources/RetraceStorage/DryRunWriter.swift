import MerkleLog

/// A writer over a read snapshot that keeps what is written in memory and never touches the store.
///
/// Why: the append path is the one copy of the append rules, and it needs a writer (it reads
/// back the heads, entries and nodes it has just written). Running it against this overlay judges
/// a batch exactly as an append would, on a read-only connection: a command that will be refused
/// is refused without opening the file for writing, which SQLite's WAL set-up would already
/// change. Everything written is forgotten with the writer.
public final class DryRunWriter: ForwardingLedgerReader, LedgerWriter {
    public let base: any LedgerReader
    private var size: UInt64?
    private var entries: [UInt64: StoredEntry] = [:]
    private var indexByEvent: [[UInt8]: UInt64] = [:]
    private var heads: [String: ChainLink] = [:]
    private var products: [String: ProductRow] = [:]
    private var nodes: [NodeID: [UInt8]] = [:]
    private var metadata: [String: String] = [:]

    public init(base: any LedgerReader) { self.base = base }

    public func treeSize() throws -> UInt64 {
        if let size { return size }
        return try base.treeSize()
    }

    public func entry(at index: UInt64) throws -> StoredEntry? {
        if let entry = entries[index] { return entry }
        return try base.entry(at: index)
    }

    public func entryIndex(eventID: [UInt8]) throws -> UInt64? {
        if let index = indexByEvent[eventID] { return index }
        return try base.entryIndex(eventID: eventID)
    }

    public func head(of chain: String) throws -> ChainLink? {
        if let link = heads[chain] { return link }
        return try base.head(of: chain)
    }

    public func chainHeads(below size: UInt64) throws -> [ChainLink] {
        // The links this writer holds are newer than any of the base's for the same chain.
        var byChain: [String: ChainLink] = [:]
        for link in try base.chainHeads(below: size) { byChain[link.chain] = link }
        for (chain, link) in heads where link.index < size {
            byChain[chain] = ChainLink(
                chain: link.chain,
                sequence: link.sequence,
                index: link.index,
                eventID: link.eventID,
                state: []
            )
        }
        return byChain.values.sorted { $0.chain < $1.chain }
    }

    public func product(_ product: String) throws -> ProductRow? {
        if let row = products[product] { return row }
        return try base.product(product)
    }

    public func metadata(_ key: String) throws -> String? {
        if let value = metadata[key] { return value }
        return try base.metadata(key)
    }

    public func hashes(of ids: [NodeID]) throws -> [NodeID: [UInt8]] {
        var found: [NodeID: [UInt8]] = [:]
        var missing: [NodeID] = []
        for id in ids {
            if let hash = nodes[id] { found[id] = hash } else { missing.append(id) }
        }
        if !missing.isEmpty { found.merge(try base.hashes(of: missing)) { mine, _ in mine } }
        return found
    }

    public func setMetadata(_ key: String, _ value: String) throws { metadata[key] = value }

    public func insert(entry: StoredEntry) throws {
        let expected = try treeSize()
        guard entry.index == expected else {
            throw StorageError(.corrupt, "entry \(entry.index) written where entry \(expected) comes next")
        }
        entries[entry.index] = entry
        indexByEvent[entry.eventID] = entry.index
        size = expected + 1
    }

    public func insert(nodes new: [(NodeID, [UInt8])]) throws {
        for (id, hash) in new { nodes[id] = hash }
    }

    public func insert(link: ChainLink) throws { heads[link.chain] = link }

    public func insert(product: ProductRow) throws { products[product.product] = product }

    /// Checkpoints are signed after a commit, never inside one; a dry run has nothing to sign.
    public func insert(checkpoint: StoredCheckpoint) throws {}

    public func withSavepoint<T>(_ body: () throws -> T) throws -> T { try body() }
}
