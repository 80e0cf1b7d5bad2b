import RetraceCrypto

/// The right frontier of a tree being recomputed leaf by leaf, like ``CompactRange``, but also
/// reporting every perfect subtree each append completes, so stored nodes can be compared as they
/// stream past (the audit), and holding its hashes as fixed-size digests: as arrays, every
/// interior node an append completed (one per entry on average) was an allocation, and every hash
/// moved on and off the stack a retain and a release (issue 15). The benchmark's audit floor
/// recomputes the tree with it too, so that the floor costs what the audit's tree costs.
public struct TreeFrontier: Sendable {
    public private(set) var size: UInt64 = 0
    private var stack: [SHA256Digest] = []

    public init() {}

    /// Starts from a verified frontier (the incremental audit checks its root first).
    public init(_ range: CompactRange) {
        size = range.size
        // A `CompactRange` holds 32-byte hashes only (its initializers refuse any other length).
        stack = range.hashes.map { SHA256Digest($0) ?? .zero }
    }

    /// Appends a leaf; with `collect`, reports the leaf and each node it completes in `completed`.
    public mutating func append(
        leafHash: SHA256Digest,
        completed: inout [(NodeID, SHA256Digest)],
        collect: Bool
    ) {
        var hash = leafHash
        var index = size
        var level = 0
        if collect { completed.append((NodeID(level: 0, index: index), hash)) }
        while index & 1 == 1, let left = stack.popLast() {
            hash = MerkleHash.nodeHash(left, hash)
            level += 1
            index >>= 1
            if collect { completed.append((NodeID(level: level, index: index), hash)) }
        }
        stack.append(hash)
        size += 1
    }

    public var rootHash: [UInt8] {
        guard var root = stack.last else { return MerkleHash.emptyRoot }
        for hash in stack.dropLast().reversed() { root = MerkleHash.nodeHash(hash, root) }
        return root.bytes
    }
}
