import MerkleLog
import RetraceCrypto
import Testing

/// Proof generation for a log of 1,000,000 leaves reads O(log n) nodes in one call.
@Suite("read counts at one million leaves")
struct ReadCountTests {
    /// Hashes derived from the node's coordinates: enough to count reads without hashing 10^6 leaves.
    /// Holds exactly the perfect subtrees of a tree of `size` leaves.
    struct SyntheticReader: MerkleNodeReader {
        let size: UInt64
        func hashes(of nodes: [NodeID]) -> [NodeID: [UInt8]] {
            var found: [NodeID: [UInt8]] = [:]
            for node in nodes where node.level < 64 && (node.index &+ 1) << node.level <= size {
                found[node] = SHA256.hash(Array("\(node.level)/\(node.index)".utf8))
            }
            return found
        }
    }

    static let size: UInt64 = 1_000_000
    /// ⌈log2(10^6)⌉ = 20, so at most 42 nodes.
    static let bound = 2 * (64 - (size - 1).leadingZeroBitCount) + 2

    static let indices: [UInt64] = {
        var generator = SeededGenerator(seed: 1)
        let fixed: [UInt64] = [0, 1, 2, 3, 499_999, 500_000, 524_287, 524_288, 999_998, 999_999]
        return fixed + (0..<200).map { _ in UInt64.random(in: 0..<size, using: &generator) }
    }()

    static func checkOneSmallCall(_ reader: CountingReader<SyntheticReader>, _ what: String) {
        #expect(reader.calls == 1, "\(what): \(reader.calls) reads")
        #expect(reader.requested.count <= bound, "\(what): \(reader.requested.count) nodes")
        #expect(Set(reader.requested).count == reader.requested.count, "\(what): a node asked for twice")
    }

    @Test("the root reads one node per 1-bit of the size")
    func root() throws {
        let reader = CountingReader(SyntheticReader(size: Self.size))
        _ = try MerkleTree.rootHash(size: Self.size, reader: reader)
        Self.checkOneSmallCall(reader, "root")
        #expect(reader.requested.count == Self.size.nonzeroBitCount)
    }

    @Test("an inclusion proof reads at most 2·log2(n) + 2 nodes in one call")
    func inclusion() throws {
        for index in Self.indices {
            let reader = CountingReader(SyntheticReader(size: Self.size))
            let proof = try MerkleTree.inclusionProof(leafIndex: index, treeSize: Self.size, reader: reader)
            Self.checkOneSmallCall(reader, "leaf \(index)")
            #expect(proof.count <= 20)
        }
    }

    @Test("a consistency proof reads at most 2·log2(n) + 2 nodes in one call")
    func consistency() throws {
        for old in Self.indices where old > 0 {
            let reader = CountingReader(SyntheticReader(size: Self.size))
            let proof = try MerkleTree.consistencyProof(from: old, to: Self.size, reader: reader)
            Self.checkOneSmallCall(reader, "\(old) → \(Self.size)")
            #expect(proof.count <= 21)
        }
    }

    @Test("on a real tree, proofs for every leaf of 1,000 read few nodes, once, and verify")
    func realTree() throws {
        let leaves = randomLeafHashes(count: 1000, seed: 3)
        let store = try InMemoryMerkleStore(leafHashes: leaves)
        let root = try store.rootHash()
        let bound = 2 * 10 + 2
        for index in 0..<UInt64(1000) {
            let reader = CountingReader(store)
            let proof = try MerkleTree.inclusionProof(leafIndex: index, treeSize: 1000, reader: reader)
            #expect(reader.calls == 1 && reader.requested.count <= bound)
            try MerkleProof.verifyInclusion(
                leafHash: leaves[Int(index)],
                leafIndex: index,
                treeSize: 1000,
                proof: proof,
                rootHash: root
            )
            let old = index + 1
            let consistencyReader = CountingReader(store)
            let consistency = try MerkleTree.consistencyProof(from: old, to: 1000, reader: consistencyReader)
            #expect(consistencyReader.calls == (old == 1000 ? 0 : 1) && consistencyReader.requested.count <= bound)
            try MerkleProof.verifyConsistency(
                size1: old,
                size2: 1000,
                proof: consistency,
                root1: try store.rootHash(size: old),
                root2: root
            )
        }
    }
}
