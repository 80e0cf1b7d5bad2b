/// RFC 9162 §2.1 tree computations over stored perfect subtrees.
///
/// The storage keeps only perfect subtrees (``NodeID``), which never change once complete. Every
/// function here first works out which perfect subtrees it needs — O(log n) of them — then fetches
/// them with a single ``MerkleNodeReader/hashes(of:)`` call, so a proof is one database round trip
/// and never touches the rest of the tree. The hash of an incomplete right-edge subtree is folded
/// from the perfect subtrees that tile it, which is exactly how RFC 9162 defines it, because the
/// RFC always splits a range at the largest power of two below its size.
public enum MerkleTree {
    // MARK: - Appending

    /// The nodes to store when appending the leaf with hash `leafHash` at position `index`: the leaf
    /// itself and every perfect parent it completes, lowest first.
    ///
    /// Reads only the left siblings on the way up (one per trailing 1-bit of `index`), in one call.
    public static func nodesToAppend(
        leafHash: [UInt8],
        atIndex index: UInt64,
        reader: some MerkleNodeReader
    ) throws -> [(NodeID, [UInt8])] {
        try nodesToAppend(leafHashes: [leafHash], startingAt: index, reader: reader)
    }

    /// The nodes to store when appending `leafHashes` at positions `start`, `start + 1`, …: every
    /// new leaf and every perfect parent the batch completes, in the order they are completed.
    ///
    /// New nodes are combined in memory; the only stored nodes read (in one call) are the old
    /// right-frontier subtrees that the batch completes a parent of. A batch of 1,000 leaves thus
    /// costs at most one read of ≤ 64 nodes.
    public static func nodesToAppend(
        leafHashes: [[UInt8]],
        startingAt start: UInt64,
        reader: some MerkleNodeReader
    ) throws -> [(NodeID, [UInt8])] {
        for (offset, hash) in leafHashes.enumerated() {
            try MerkleHash.requireHash(hash, "leaf hash \(offset) of the batch")
        }
        guard !leafHashes.isEmpty else { return [] }
        let (end, overflow) = start.addingReportingOverflow(UInt64(leafHashes.count))
        guard !overflow else {
            throw MerkleError(
                .sizeOverflow,
                "appending \(leafHashes.count) leaves at \(start) passes 2^64 − 1 leaves"
            )
        }

        // Old frontier nodes (largest first) whose parent the batch completes. These are always
        // the lowest-level part of the frontier, so they sit at the bottom of the merge stack.
        let needed = perfectSubtrees(from: 0, to: start).filter { node in
            let parentShift = UInt64(node.level + 1)
            return end >> parentShift > start >> parentShift
        }
        var stack: [[UInt8]] = try fetch(needed, reader: reader, context: "appending at \(start)")

        var nodes: [(NodeID, [UInt8])] = []
        nodes.reserveCapacity(leafHashes.count * 2)
        for (offset, leafHash) in leafHashes.enumerated() {
            var index = start + UInt64(offset)
            var level = 0
            var hash = leafHash
            nodes.append((NodeID(level: 0, index: index), hash))
            while index & 1 == 1 {
                guard let left = stack.popLast() else {
                    throw MerkleError(
                        .missingNode,
                        "no left sibling for \(NodeID(level: level, index: index)) while appending"
                    )
                }
                hash = MerkleHash.nodeHash(left, hash)
                level += 1
                index >>= 1
                nodes.append((NodeID(level: level, index: index), hash))
            }
            stack.append(hash)
        }
        return nodes
    }

    // MARK: - Roots and proofs

    /// `MTH(D[0:size])`, from at most 64 stored nodes (one per 1-bit of `size`).
    public static func rootHash(size: UInt64, reader: some MerkleNodeReader) throws -> [UInt8] {
        guard size > 0 else { return MerkleHash.emptyRoot }
        return try hashes(of: [Span(start: 0, end: size)], reader: reader, context: "the root of size \(size)")[0]
    }

    /// RFC 9162 §2.1.3.1 `PATH(leafIndex, D[0:treeSize])`, the sibling hashes from the leaf up.
    ///
    /// Reads at most 2·log2(treeSize) nodes: one perfect subtree per proof element, except for at
    /// most one element that is an incomplete right-edge subtree and is folded from its tiles.
    public static func inclusionProof(
        leafIndex: UInt64,
        treeSize: UInt64,
        reader: some MerkleNodeReader
    ) throws -> [[UInt8]] {
        guard leafIndex < treeSize else {
            throw MerkleError(
                .indexOutOfRange,
                "leaf index \(leafIndex) is not below the tree size \(treeSize)"
            )
        }
        return try hashes(
            of: inclusionSpans(leafIndex: leafIndex, treeSize: treeSize),
            reader: reader,
            context: "the inclusion proof of leaf \(leafIndex) in size \(treeSize)"
        )
    }

    /// The inclusion proofs of several leaves of one tree, in the order of `leafIndices`; each is
    /// the one ``inclusionProof(leafIndex:treeSize:reader:)`` gives for its leaf.
    ///
    /// A verifier proves all of a product's events at once, and their paths share most upper
    /// subtrees and (for leaves left of the right edge) the same incomplete right-edge subtree.
    /// One by one, each proof found its nodes through hashed sets and dictionaries and folded that
    /// right edge again: about a quarter of a cold 20-event scan's instructions. Here the distinct
    /// subtrees are found by sorting, every node is fetched in one reader call and every
    /// incomplete subtree is folded once.
    public static func inclusionProofs(
        leafIndices: [UInt64],
        treeSize: UInt64,
        reader: some MerkleNodeReader
    ) throws -> [[[UInt8]]] {
        for leafIndex in leafIndices where leafIndex >= treeSize {
            throw MerkleError(
                .indexOutOfRange,
                "leaf index \(leafIndex) is not below the tree size \(treeSize)"
            )
        }
        let paths = leafIndices.map { inclusionSpans(leafIndex: $0, treeSize: treeSize) }
        let spanOrder: (Span, Span) -> Bool = { ($0.start, $0.end) < ($1.start, $1.end) }
        let spans = sortedUnique(Array(paths.joined()), by: spanOrder)
        let tiles = spans.map { perfectSubtrees(from: $0.start, to: $0.end) }
        let nodeOrder: (NodeID, NodeID) -> Bool = { ($0.level, $0.index) < ($1.level, $1.index) }
        let wanted = sortedUnique(Array(tiles.joined()), by: nodeOrder)
        let fetched = try fetch(
            wanted,
            reader: reader,
            context: "the inclusion proofs of \(leafIndices.count) leaves in size \(treeSize)"
        )
        func node(_ id: NodeID) -> [UInt8] { fetched[sortedPosition(of: id, in: wanted, by: nodeOrder)] }
        let hashes = tiles.map { pieces in
            // Right fold: RFC 9162 hashes an incomplete subtree as node(left, rest).
            var hash = node(pieces[pieces.count - 1])
            for piece in pieces.dropLast().reversed() { hash = MerkleHash.nodeHash(node(piece), hash) }
            return hash
        }
        return paths.map { path in path.map { hashes[sortedPosition(of: $0, in: spans, by: spanOrder)] } }
    }

    /// RFC 9162 §2.1.4.1 `PROOF(size1, D[0:size2])`, empty when the sizes are equal.
    ///
    /// Sizes must satisfy 0 < size1 ≤ size2: every tree extends the empty tree and the RFC defines
    /// no proof from it, so a request from size 0 is refused rather than answered with `[]`.
    /// Sizes beyond the stored tree show up as ``MerkleError/Code/missingNode``, except that equal
    /// sizes read nothing, so callers compare `size2` with the log's size themselves.
    public static func consistencyProof(
        from size1: UInt64,
        to size2: UInt64,
        reader: some MerkleNodeReader
    ) throws -> [[UInt8]] {
        guard size1 <= size2 else {
            throw MerkleError(.invalidSizes, "consistency proof from size \(size1) to the smaller size \(size2)")
        }
        guard size1 > 0 else {
            throw MerkleError(
                .invalidSizes,
                "no consistency proof from the empty tree (size 0): every tree extends it"
            )
        }
        return try hashes(
            of: consistencySpans(size1: size1, size2: size2),
            reader: reader,
            context: "the consistency proof from size \(size1) to \(size2)"
        )
    }

    // MARK: - Perfect subtrees

    /// The perfect subtrees tiling leaves `[start, end)`, left to right, each as large as its
    /// alignment and the remaining range allow.
    ///
    /// For `[0, n)` these are the tree's right frontier (one per 1-bit of `n`, largest first); for
    /// an RFC 9162 subtree range they are the pieces whose right fold is the subtree's hash.
    public static func perfectSubtrees(from start: UInt64, to end: UInt64) -> [NodeID] {
        var nodes: [NodeID] = []
        var position = start
        while position < end {
            let remaining = end - position
            let alignment = position == 0 ? 63 : position.trailingZeroBitCount
            let fits = 63 - remaining.leadingZeroBitCount  // floor(log2(remaining))
            let level = min(alignment, fits)
            nodes.append(NodeID(level: level, index: position >> UInt64(level)))
            position += 1 << UInt64(level)
        }
        return nodes
    }

    // MARK: - Internals

    /// Leaves `[start, end)` of an RFC 9162 subtree (perfect, or incomplete on the right edge).
    struct Span: Hashable, Sendable {
        let start: UInt64
        let end: UInt64
    }

    /// The largest power of two strictly below `count` (count ≥ 2): RFC 9162's split point `k`.
    static func splitPoint(_ count: UInt64) -> UInt64 {
        1 << UInt64(63 - (count - 1).leadingZeroBitCount)
    }

    /// The subtrees whose hashes form `PATH(index, D[0:size])`, leaf end first.
    static func inclusionSpans(leafIndex: UInt64, treeSize: UInt64) -> [Span] {
        var spans: [Span] = []
        var start: UInt64 = 0
        var end = treeSize
        while end - start > 1 {
            let middle = start + splitPoint(end - start)
            if leafIndex < middle {
                spans.append(Span(start: middle, end: end))
                end = middle
            } else {
                spans.append(Span(start: start, end: middle))
                start = middle
            }
        }
        return spans.reversed()
    }

    /// The subtrees whose hashes form `PROOF(size1, D[0:size2])` for 0 < size1 ≤ size2, by the
    /// RFC's SUBPROOF recursion unrolled top-down (and reversed, since SUBPROOF appends the
    /// sibling after the deeper elements).
    static func consistencySpans(size1: UInt64, size2: UInt64) -> [Span] {
        var spans: [Span] = []
        var start: UInt64 = 0
        var end = size2
        var isStartOfTree = true
        while true {
            if size1 == end {
                if !isStartOfTree { spans.append(Span(start: start, end: end)) }
                break
            }
            let middle = start + splitPoint(end - start)
            if size1 <= middle {
                spans.append(Span(start: middle, end: end))
                end = middle
            } else {
                spans.append(Span(start: start, end: middle))
                start = middle
                isStartOfTree = false
            }
        }
        return spans.reversed()
    }

    /// The hashes of `spans`, fetching every perfect subtree they need in one reader call.
    static func hashes(of spans: [Span], reader: some MerkleNodeReader, context: String) throws -> [[UInt8]] {
        let tiles = spans.map { perfectSubtrees(from: $0.start, to: $0.end) }
        var wanted: [NodeID] = []
        var seen: Set<NodeID> = []
        for node in tiles.joined() where seen.insert(node).inserted { wanted.append(node) }
        let fetched = try fetch(wanted, reader: reader, context: context)
        var byID: [NodeID: [UInt8]] = [:]
        for (node, hash) in zip(wanted, fetched) { byID[node] = hash }

        return tiles.map { pieces in
            // Right fold: RFC 9162 hashes an incomplete subtree as node(left, rest).
            var hash = byID[pieces[pieces.count - 1]] ?? []
            for node in pieces.dropLast().reversed() {
                hash = MerkleHash.nodeHash(byID[node] ?? [], hash)
            }
            return hash
        }
    }

    /// `items` sorted by `less`, each distinct one once.
    static func sortedUnique<T>(_ items: [T], by less: (T, T) -> Bool) -> [T] {
        var unique: [T] = []
        unique.reserveCapacity(items.count)
        for item in items.sorted(by: less) where unique.last.map({ less($0, item) }) ?? true {
            unique.append(item)
        }
        return unique
    }

    /// The position of `item` in `sorted` (sorted and unique by `less`); `item` must be there.
    static func sortedPosition<T>(of item: T, in sorted: [T], by less: (T, T) -> Bool) -> Int {
        var low = 0
        var high = sorted.count
        while low < high {
            let middle = (low + high) / 2
            if less(sorted[middle], item) { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Reads `nodes` in one call (none if empty), in the same order, refusing absent or malformed ones.
    static func fetch(_ nodes: [NodeID], reader: some MerkleNodeReader, context: String) throws -> [[UInt8]] {
        guard !nodes.isEmpty else { return [] }
        let found = try reader.hashes(of: nodes)
        return try nodes.map { node throws(MerkleError) in
            guard let hash = found[node] else {
                throw MerkleError(
                    .missingNode,
                    "\(context) needs node \(node) (leaves \(node.firstLeaf)..<\(node.firstLeaf &+ node.leafCount)), "
                        + "which the storage does not hold: is the size beyond the log's size?"
                )
            }
            guard hash.count == MerkleHash.byteCount else {
                throw MerkleError(
                    .corruptNode,
                    "storage returned \(hash.count) bytes for node \(node), expected \(MerkleHash.byteCount)"
                )
            }
            return hash
        }
    }
}
