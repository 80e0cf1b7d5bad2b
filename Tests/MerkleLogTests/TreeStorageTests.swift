import MerkleLog
import RetraceCrypto
import Testing

/// Appending to stored perfect subtrees, the compact range, and how few nodes each operation reads.
@Suite("storage-friendly tree")
struct TreeStorageTests {
    static let leaves = randomLeafHashes(count: 300, seed: 42)

    /// Every perfect subtree of a tree of `size` leaves, with its reference hash.
    static func perfectNodes(size: Int) -> [NodeID: [UInt8]] {
        var nodes: [NodeID: [UInt8]] = [:]
        var level = 0
        while 1 << level <= size {
            for index in 0..<(size >> level) {
                let first = index << level
                nodes[NodeID(level: level, index: UInt64(index))] =
                    Reference.mth(leaves[first..<(first + (1 << level))])
            }
            level += 1
        }
        return nodes
    }

    @Test("appending leaf n stores exactly the new perfect subtrees, reading one left sibling per level")
    func appendOne() throws {
        var store = DictionaryStore()
        for n in 0..<70 {
            let reader = CountingReader(store)
            let added = try MerkleTree.nodesToAppend(leafHash: Self.leaves[n], atIndex: UInt64(n), reader: reader)
            let before = Self.perfectNodes(size: n)
            let after = Self.perfectNodes(size: n + 1)
            let expected = after.filter { before[$0.key] == nil }
            #expect(added.count == expected.count, "leaf \(n)")
            for (id, hash) in added { #expect(expected[id] == hash, "leaf \(n), node \(id)") }
            // One left sibling per trailing 1-bit of n, all in one call (none when n is even).
            #expect(reader.requested.count == (~UInt64(n)).trailingZeroBitCount)
            #expect(reader.calls == (n % 2 == 1 ? 1 : 0))
            for (id, hash) in added { store.nodes[id] = hash }
        }
        #expect(store.nodes == Self.perfectNodes(size: 70))
    }

    @Test(
        "batches of any size give the same stored nodes as single appends, each with one read",
        arguments: [1, 2, 3, 7, 64, 100, 300]
    )
    func appendBatches(batchSize: Int) throws {
        var store = DictionaryStore()
        var start = 0
        while start < Self.leaves.count {
            let batch = Array(Self.leaves[start..<min(start + batchSize, Self.leaves.count)])
            let reader = CountingReader(store)
            let added = try MerkleTree.nodesToAppend(leafHashes: batch, startingAt: UInt64(start), reader: reader)
            #expect(reader.calls <= 1)
            #expect(reader.requested.count <= UInt64(start).nonzeroBitCount)
            #expect(Set(added.map(\.0)).count == added.count, "a node was emitted twice")
            for (id, hash) in added {
                #expect(store.nodes[id] == nil, "node \(id) rewritten")
                store.nodes[id] = hash
            }
            start += batch.count
        }
        #expect(store.nodes == Self.perfectNodes(size: Self.leaves.count))
        let root = try MerkleTree.rootHash(size: UInt64(Self.leaves.count), reader: store)
        #expect(root == Reference.mth(Self.leaves[...]))
    }

    @Test("a batch of 1,000 after an odd-sized tree reads only the old frontier it completes")
    func largeBatch() throws {
        let leaves = randomLeafHashes(count: 2023, seed: 7)
        let old = try InMemoryMerkleStore(leafHashes: Array(leaves.prefix(1023)))
        let reader = CountingReader(old)
        let added = try MerkleTree.nodesToAppend(
            leafHashes: Array(leaves[1023..<2023]),
            startingAt: 1023,
            reader: reader
        )
        #expect(reader.calls == 1)
        // 1023 = 0b1111111111: all ten frontier subtrees get a parent, so all ten are read.
        #expect(reader.requested.count == 10)
        var store = DictionaryStore()
        for id in (0..<10).flatMap({ level in (0..<(1023 >> level)).map { NodeID(level: level, index: UInt64($0)) } }) {
            store.nodes[id] = old.hashes(of: [id])[id]
        }
        for (id, hash) in added { store.nodes[id] = hash }
        #expect(try MerkleTree.rootHash(size: 2023, reader: store) == Reference.mth(leaves[...]))
    }

    @Test("appends refuse short hashes, a position past the stored tree, and overflow past 2^64 − 1")
    func appendRefusals() throws {
        let store = try InMemoryMerkleStore(leafHashes: Array(Self.leaves.prefix(3)))
        let short = [UInt8](repeating: 1, count: 31)
        #expect(
            merkleErrorCode { _ = try MerkleTree.nodesToAppend(leafHash: short, atIndex: 3, reader: store) }
                == .invalidHashLength
        )
        #expect(
            merkleErrorCode {
                _ = try MerkleTree.nodesToAppend(leafHash: Self.leaves[5], atIndex: 5, reader: store)
            } == .missingNode
        )
        #expect(
            merkleErrorCode {
                _ = try MerkleTree.nodesToAppend(
                    leafHashes: [Self.leaves[0], Self.leaves[1]],
                    startingAt: .max,
                    reader: store
                )
            } == .sizeOverflow
        )
        #expect(try MerkleTree.nodesToAppend(leafHashes: [], startingAt: 3, reader: store).isEmpty)
        var memory = InMemoryMerkleStore()
        #expect(merkleErrorCode { try memory.append(leafHash: short) } == .invalidHashLength)
        var range = CompactRange()
        #expect(merkleErrorCode { try range.append(leafHash: []) } == .invalidHashLength)
    }

    @Test("the compact range keeps one hash per 1-bit of the size and gives every root")
    func compactRange() throws {
        var range = CompactRange()
        var store = InMemoryMerkleStore()
        for (index, leaf) in Self.leaves.enumerated() {
            try range.append(leafHash: leaf)
            try store.append(leafHash: leaf)
            let size = UInt64(index + 1)
            #expect(range.size == size)
            #expect(range.hashes.count == size.nonzeroBitCount)
            #expect(range.nodeIDs == MerkleTree.perfectSubtrees(from: 0, to: size))
            #expect(range.rootHash == Reference.mth(Self.leaves.prefix(index + 1)))
            #expect(try CompactRange.load(size: size, reader: store) == range)
        }
    }

    @Test("a compact range built from hashes checks their number and length")
    func compactRangeRefusals() throws {
        let hash = Self.leaves[0]
        #expect(merkleErrorCode { _ = try CompactRange(size: 3, hashes: [hash]) } == .invalidFrontier)
        #expect(merkleErrorCode { _ = try CompactRange(size: 2, hashes: [[1, 2]]) } == .invalidHashLength)
        var range = try CompactRange(size: 1, hashes: [hash])
        try range.append(leafHash: Self.leaves[1])
        #expect(range.rootHash == Reference.mth(Self.leaves.prefix(2)))
        let store = try InMemoryMerkleStore(leafHashes: Array(Self.leaves.prefix(5)))
        #expect(merkleErrorCode { _ = try CompactRange.load(size: 6, reader: store) } == .missingNode)
    }

    @Test("perfect subtrees tile a range with the largest aligned pieces")
    func perfectSubtrees() {
        #expect(MerkleTree.perfectSubtrees(from: 0, to: 0).isEmpty)
        #expect(
            MerkleTree.perfectSubtrees(from: 0, to: 13) == [
                NodeID(level: 3, index: 0), NodeID(level: 2, index: 2), NodeID(level: 0, index: 12),
            ]
        )
        #expect(
            MerkleTree.perfectSubtrees(from: 5, to: 12) == [
                NodeID(level: 0, index: 5), NodeID(level: 1, index: 3), NodeID(level: 2, index: 2),
            ]
        )
        let all = MerkleTree.perfectSubtrees(from: 0, to: .max)
        #expect(all.count == 64)
        #expect(all.first == NodeID(level: 63, index: 0))
        #expect(all.last == NodeID(level: 0, index: .max - 1))
    }
}
