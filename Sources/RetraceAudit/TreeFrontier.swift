import MerkleLog

/// The right frontier of the recomputed tree, like `CompactRange`, but also reporting every
/// perfect subtree each append completes, so stored nodes can be compared as they stream past.
struct TreeFrontier: Sendable {
    private(set) var size: UInt64 = 0
    private var stack: [[UInt8]] = []

    init() {}

    /// Starts from a verified frontier (the incremental audit checks its root first).
    init(_ range: CompactRange) {
        size = range.size
        stack = range.hashes
    }

    mutating func append(leafHash: [UInt8], completed: inout [(NodeID, [UInt8])], collect: Bool) {
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

    var rootHash: [UInt8] {
        guard var root = stack.last else { return MerkleHash.emptyRoot }
        for hash in stack.dropLast().reversed() { root = MerkleHash.nodeHash(hash, root) }
        return root
    }
}
