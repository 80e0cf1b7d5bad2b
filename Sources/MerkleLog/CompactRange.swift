/// The right frontier of a tree of `size` leaves: one perfect-subtree hash per 1-bit of `size`,
/// largest first — all that is needed to append more leaves and to compute the root.
///
/// Memory is O(log n) whatever the size, so an auditor can stream millions of exported entries
/// through one of these and compare the root with a checkpoint without keeping the tree.
public struct CompactRange: Hashable, Sendable {
    /// The number of leaves appended so far.
    public private(set) var size: UInt64
    /// The hashes of ``nodeIDs``, largest subtree first.
    public private(set) var hashes: [[UInt8]]

    /// The empty tree.
    public init() {
        size = 0
        hashes = []
    }

    /// A frontier taken from elsewhere (for example stored nodes, see ``load(size:reader:)``).
    ///
    /// - Throws: ``MerkleError/Code/invalidFrontier`` unless there is exactly one hash per 1-bit of
    ///   `size`, ``MerkleError/Code/invalidHashLength`` unless each is 32 bytes.
    public init(size: UInt64, hashes: [[UInt8]]) throws(MerkleError) {
        guard hashes.count == size.nonzeroBitCount else {
            throw MerkleError(
                .invalidFrontier,
                "a tree of size \(size) has \(size.nonzeroBitCount) frontier hashes, found \(hashes.count)"
            )
        }
        for (position, hash) in hashes.enumerated() {
            try MerkleHash.requireHash(hash, "frontier hash \(position)")
        }
        self.size = size
        self.hashes = hashes
    }

    /// The frontier of the stored tree of `size` leaves, read in one call.
    public static func load(size: UInt64, reader: some MerkleNodeReader) throws -> CompactRange {
        let nodes = MerkleTree.perfectSubtrees(from: 0, to: size)
        let hashes = try MerkleTree.fetch(nodes, reader: reader, context: "the frontier of size \(size)")
        return try CompactRange(size: size, hashes: hashes)
    }

    /// The perfect subtrees whose hashes ``hashes`` holds, largest first.
    public var nodeIDs: [NodeID] { MerkleTree.perfectSubtrees(from: 0, to: size) }

    /// `MTH(D[0:size])`: the frontier folded from the right.
    public var rootHash: [UInt8] {
        guard var root = hashes.last else { return MerkleHash.emptyRoot }
        for hash in hashes.dropLast().reversed() {
            root = MerkleHash.nodeHash(hash, root)
        }
        return root
    }

    /// Appends the entry `entry` as the next leaf.
    public mutating func append(entry: some Collection<UInt8>) throws(MerkleError) {
        try append(leafHash: MerkleHash.leafHash(entry))
    }

    /// Appends a leaf by its hash, merging the equal-sized subtrees it completes.
    ///
    /// - Throws: ``MerkleError/Code/invalidHashLength`` for a hash that is not 32 bytes,
    ///   ``MerkleError/Code/sizeOverflow`` past 2^64 − 1 leaves.
    public mutating func append(leafHash: [UInt8]) throws(MerkleError) {
        try MerkleHash.requireHash(leafHash, "the leaf hash")
        guard size < UInt64.max else { throw MerkleError(.sizeOverflow, "the tree already holds 2^64 − 1 leaves") }
        var hash = leafHash
        var remaining = size
        while remaining & 1 == 1, let left = hashes.popLast() {
            hash = MerkleHash.nodeHash(left, hash)
            remaining >>= 1
        }
        hashes.append(hash)
        size += 1
    }
}
