/// Every perfect subtree of a tree, kept in memory: a ``MerkleNodeReader`` for tests and for
/// verifiers that rebuild a log from an export and then serve or check proofs from it.
///
/// Holds about 2n hashes for n leaves. When only the root is needed, use ``CompactRange``.
public struct InMemoryMerkleStore: MerkleNodeReader, Hashable, Sendable {
    /// `levels[L][i]` is the hash of ``NodeID`` (L, i); each level grows only at its end.
    private var levels: [[[UInt8]]] = [[]]

    public init() {}

    /// A store holding `leafHashes` as leaves 0, 1, ….
    public init(leafHashes: [[UInt8]]) throws(MerkleError) {
        for hash in leafHashes { try append(leafHash: hash) }
    }

    /// The number of leaves.
    public var size: UInt64 { UInt64(levels[0].count) }

    /// Appends the entry `entry` as the next leaf.
    public mutating func append(entry: some Collection<UInt8>) {
        appendChecked(MerkleHash.leafHash(entry))
    }

    /// Appends a leaf by its hash, storing every perfect parent it completes.
    public mutating func append(leafHash: [UInt8]) throws(MerkleError) {
        try MerkleHash.requireHash(leafHash, "the leaf hash")
        appendChecked(leafHash)
    }

    private mutating func appendChecked(_ leafHash: [UInt8]) {
        var index = levels[0].count
        levels[0].append(leafHash)
        var hash = leafHash
        var level = 0
        while index & 1 == 1 {
            hash = MerkleHash.nodeHash(levels[level][index - 1], hash)
            level += 1
            index >>= 1
            if levels.count == level { levels.append([]) }
            levels[level].append(hash)
        }
    }

    /// The leaf hash at `index`, if there is such a leaf.
    public func leafHash(at index: UInt64) -> [UInt8]? {
        index < size ? levels[0][Int(index)] : nil
    }

    public func hashes(of nodes: [NodeID]) -> [NodeID: [UInt8]] {
        var found: [NodeID: [UInt8]] = [:]
        for node in nodes where node.level >= 0 && node.level < levels.count {
            let level = levels[node.level]
            if node.index < UInt64(level.count) { found[node] = level[Int(node.index)] }
        }
        return found
    }

    /// `MTH(D[0:size])` for any size up to the current one (default: the current one).
    public func rootHash(size: UInt64? = nil) throws -> [UInt8] {
        try MerkleTree.rootHash(size: try checkedSize(size ?? self.size), reader: self)
    }

    /// The inclusion proof of leaf `leafIndex` in the tree of size `treeSize` (default: current).
    public func inclusionProof(leafIndex: UInt64, treeSize: UInt64? = nil) throws -> [[UInt8]] {
        try MerkleTree.inclusionProof(
            leafIndex: leafIndex,
            treeSize: try checkedSize(treeSize ?? size),
            reader: self
        )
    }

    /// The consistency proof between two sizes, the second defaulting to the current size.
    public func consistencyProof(from size1: UInt64, to size2: UInt64? = nil) throws -> [[UInt8]] {
        try MerkleTree.consistencyProof(from: size1, to: try checkedSize(size2 ?? size), reader: self)
    }

    private func checkedSize(_ requested: UInt64) throws(MerkleError) -> UInt64 {
        guard requested <= size else {
            throw MerkleError(.invalidSizes, "size \(requested) is beyond the store's \(size) leaves")
        }
        return requested
    }
}
