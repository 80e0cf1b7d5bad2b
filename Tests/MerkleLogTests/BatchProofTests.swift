import MerkleLog
import RetraceCrypto
import Testing

/// A verifier builds all of a product's inclusion proofs in one call; each must be exactly the
/// proof the one-leaf function gives, read from the same nodes, and a missing node or a leaf
/// beyond the tree must still be refused.
@Suite("inclusion proofs of several leaves at once")
struct BatchProofTests {
    static func store(_ size: Int) throws -> InMemoryMerkleStore {
        try InMemoryMerkleStore(leafHashes: (0..<size).map { MerkleHash.leafHash(Array("leaf \($0)".utf8)) })
    }

    @Test(
        "each proof equals the one-leaf proof, and the nodes read are those the one-leaf proofs read, once",
        arguments: [1, 2, 3, 7, 8, 9, 100, 1_000, 1_024, 1_025, 4_097]
    )
    func sameAsOneByOne(size: Int) throws {
        let store = try Self.store(size)
        let n = UInt64(size)
        // Unsorted, with a repeat, the first and last leaves and both sides of the split.
        let leaves = [n - 1, 0, n / 2, n / 3, n - 1, n > 1 ? n - 2 : 0, n / 2 + 1].filter { $0 < n }
        let single = CountingReader(store)
        let expected = try leaves.map { try MerkleTree.inclusionProof(leafIndex: $0, treeSize: n, reader: single) }
        let batch = CountingReader(store)
        #expect(try MerkleTree.inclusionProofs(leafIndices: leaves, treeSize: n, reader: batch) == expected)
        #expect(batch.calls <= 1)
        #expect(Set(batch.requested) == Set(single.requested))
        #expect(Set(batch.requested).count == batch.requested.count, "a node asked for twice")
        for (leaf, proof) in zip(leaves, expected) {
            try MerkleProof.verifyInclusion(
                leafHash: try #require(store.leafHash(at: leaf)),
                leafIndex: leaf,
                treeSize: n,
                proof: proof,
                rootHash: try store.rootHash(size: n)
            )
        }
    }

    @Test("every proof of a smaller tree than the store's equals the one-leaf proof")
    func olderSizes() throws {
        let store = try Self.store(300)
        for size in [1, 5, 64, 65, 127, 255, 299] as [UInt64] {
            let leaves = Array(0..<size)
            let expected = try leaves.map { try store.inclusionProof(leafIndex: $0, treeSize: size) }
            #expect(try MerkleTree.inclusionProofs(leafIndices: leaves, treeSize: size, reader: store) == expected)
        }
    }

    @Test("no leaves read nothing")
    func empty() throws {
        let reader = CountingReader(try Self.store(10))
        #expect(try MerkleTree.inclusionProofs(leafIndices: [], treeSize: 10, reader: reader).isEmpty)
        #expect(reader.calls == 0)
    }

    @Test("a leaf at or beyond the tree size is refused, even among valid ones")
    func outOfRange() throws {
        let store = try Self.store(10)
        #expect(
            merkleErrorCode { _ = try MerkleTree.inclusionProofs(leafIndices: [1, 10], treeSize: 10, reader: store) }
                == .indexOutOfRange
        )
        #expect(
            merkleErrorCode { _ = try MerkleTree.inclusionProofs(leafIndices: [0], treeSize: 0, reader: store) }
                == .indexOutOfRange
        )
    }

    @Test("a node the storage lacks or returns malformed is refused")
    func missingOrMalformedNode() throws {
        var nodes = DictionaryStore()
        let store = try Self.store(100)
        for level in 0..<7 {
            for index in 0..<(100 >> level) {
                let node = NodeID(level: level, index: UInt64(index))
                nodes.nodes[node] = store.hashes(of: [node])[node]
            }
        }
        #expect(try MerkleTree.inclusionProofs(leafIndices: [3, 90], treeSize: 100, reader: nodes).count == 2)
        var missing = nodes
        missing.nodes[NodeID(level: 0, index: 91)] = nil
        #expect(
            merkleErrorCode {
                _ = try MerkleTree.inclusionProofs(leafIndices: [3, 90], treeSize: 100, reader: missing)
            }
                == .missingNode
        )
        var short = nodes
        short.nodes[NodeID(level: 0, index: 91)] = [1, 2, 3]
        #expect(
            merkleErrorCode { _ = try MerkleTree.inclusionProofs(leafIndices: [3, 90], treeSize: 100, reader: short) }
                == .corruptNode
        )
    }
}
