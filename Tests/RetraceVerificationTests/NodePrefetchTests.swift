import MerkleLog
import Testing

@testable import RetraceVerification

/// The verifier reads a scan's Merkle nodes ahead, in parallel; it must name exactly the nodes the
/// proofs then ask for (a missing one would only be read late, an extra one read for nothing).
@Suite("Merkle node read-ahead")
struct NodePrefetchTests {
    /// Records which nodes a proof asks for.
    final class Recorder: MerkleNodeReader {
        let base: InMemoryMerkleStore
        var asked: Set<NodeID> = []

        init(base: InMemoryMerkleStore) { self.base = base }

        func hashes(of nodes: [NodeID]) throws -> [NodeID: [UInt8]] {
            asked.formUnion(nodes)
            return base.hashes(of: nodes)
        }
    }

    @Test(
        "the nodes read ahead are exactly those the inclusion proofs read",
        arguments: [1, 2, 3, 7, 8, 9, 100, 1_000, 1_024, 1_025, 4_097]
    )
    func sameNodes(size: Int) throws {
        let hashes = (0..<size).map { MerkleHash.leafHash(Array("leaf \($0)".utf8)) }
        let store = try InMemoryMerkleStore(leafHashes: hashes)
        let leaves = Array(Set([0, size / 3, size / 2, size - 2, size - 1].filter { $0 >= 0 }.map(UInt64.init)))
        let recorder = Recorder(base: store)
        for leaf in leaves {
            _ = try MerkleTree.inclusionProof(leafIndex: leaf, treeSize: UInt64(size), reader: recorder)
        }
        let ahead = NodePrefetch.nodes(leaves: leaves, treeSize: UInt64(size))
        #expect(Set(ahead) == recorder.asked)
        #expect(Set(ahead).count == ahead.count)
    }
}
