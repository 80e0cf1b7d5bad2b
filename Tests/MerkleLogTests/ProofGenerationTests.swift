import MerkleLog
import RetraceCrypto
import Testing

/// Every inclusion and consistency proof for trees of up to 64 random leaves, against the
/// literal RFC 9162 recursion in ``Reference``, and every proof verified and then tampered with.
@Suite("proof generation and verification, all sizes up to 64")
struct ProofGenerationTests {
    static let leaves = randomLeafHashes(count: 64, seed: 0x5245_5452_4143_45)
    static let store: InMemoryMerkleStore = {
        var store = InMemoryMerkleStore()
        for leaf in leaves { try? store.append(leafHash: leaf) }
        return store
    }()
    static let roots: [[UInt8]] = (0...64).map { Reference.mth(leaves.prefix($0)) }

    @Test("the store holds all 64 leaves and its roots match the reference MTH")
    func roots() throws {
        #expect(Self.store.size == 64)
        for size in 0...64 {
            #expect(try Self.store.rootHash(size: UInt64(size)) == Self.roots[size])
        }
    }

    @Test("inclusion proofs for every leaf equal PATH, verify, and fail when tampered", arguments: 1...64)
    func inclusion(size: Int) throws {
        let n = UInt64(size)
        let root = Self.roots[size]
        for index in 0..<size {
            let i = UInt64(index)
            let leaf = Self.leaves[index]
            let proof = try Self.store.inclusionProof(leafIndex: i, treeSize: n)
            #expect(proof == Reference.path(index, Self.leaves.prefix(size)), "leaf \(index) of \(size)")
            try MerkleProof.verifyInclusion(leafHash: leaf, leafIndex: i, treeSize: n, proof: proof, rootHash: root)

            func verify(
                leaf: [UInt8] = leaf,
                index: UInt64 = i,
                size: UInt64 = n,
                proof: [[UInt8]] = proof,
                root: [UInt8] = root
            ) -> MerkleError.Code? {
                merkleErrorCode {
                    try MerkleProof.verifyInclusion(
                        leafHash: leaf,
                        leafIndex: index,
                        treeSize: size,
                        proof: proof,
                        rootHash: root
                    )
                }
            }
            for position in proof.indices {
                for bit in [0, 7] {
                    var flipped = proof
                    flipped[position][bit % 32] ^= 1 << UInt8(bit)
                    #expect(verify(proof: flipped) == .rootMismatch)
                }
            }
            if !proof.isEmpty {
                #expect(verify(proof: Array(proof.dropLast())) == .wrongProofLength)
                #expect(verify(proof: Array(proof.dropFirst())) == .wrongProofLength)
            }
            #expect(verify(proof: proof + [root]) == .wrongProofLength)
            #expect(verify(proof: [leaf] + proof) == .wrongProofLength)
            #expect(verify(leaf: Self.leaves[(index + 1) % 64]) == .rootMismatch)
            #expect(verify(root: Self.roots[size - 1]) == .rootMismatch)
            #expect(verify(index: n) == .indexOutOfRange)
            #expect(verify(index: .max) == .indexOutOfRange)

            // Claiming the same leaf sits elsewhere in the same tree always fails.
            for other in Set([i &- 1, i + 1, i ^ 1, i ^ 2]) where other < n && other != i {
                #expect(verify(index: other) != nil, "leaf \(index) of \(size) accepted at index \(other)")
            }
            // A proof for (i, n) may pass for a different true statement (leaf i' in the real tree
            // of size n') only if it is literally that statement's proof.
            for (otherIndex, otherSize) in [
                (index, size - 1), (index, size + 1), (index, size * 2), (index, size / 2),
                (index - 1, size), (index + 1, size),
            ]
            where otherIndex >= 0 && otherIndex < otherSize && otherSize <= 64
                && (otherIndex, otherSize) != (index, size)
            {
                let accepted =
                    verify(
                        leaf: Self.leaves[otherIndex],
                        index: UInt64(otherIndex),
                        size: UInt64(otherSize),
                        root: Self.roots[otherSize]
                    ) == nil
                let isThatProof = proof == Reference.path(otherIndex, Self.leaves.prefix(otherSize))
                #expect(accepted == isThatProof, "leaf \(index) of \(size) as leaf \(otherIndex) of \(otherSize)")
            }
        }
    }

    @Test("consistency proofs from every smaller size equal PROOF, verify, and fail when tampered", arguments: 1...64)
    func consistency(size: Int) throws {
        let n = UInt64(size)
        let root2 = Self.roots[size]
        for old in 1...size {
            let m = UInt64(old)
            let root1 = Self.roots[old]
            let proof = try Self.store.consistencyProof(from: m, to: n)
            #expect(proof == Reference.proof(old, Self.leaves.prefix(size)), "\(old) → \(size)")
            try MerkleProof.verifyConsistency(size1: m, size2: n, proof: proof, root1: root1, root2: root2)
            guard old < size else {
                #expect(proof.isEmpty)
                continue
            }
            #expect(!proof.isEmpty)

            func verify(
                size1: UInt64 = m,
                size2: UInt64 = n,
                proof: [[UInt8]] = proof,
                root1: [UInt8] = root1,
                root2: [UInt8] = root2
            ) -> MerkleError.Code? {
                merkleErrorCode {
                    try MerkleProof.verifyConsistency(
                        size1: size1,
                        size2: size2,
                        proof: proof,
                        root1: root1,
                        root2: root2
                    )
                }
            }
            for position in proof.indices {
                for bit in [0, 7] {
                    var flipped = proof
                    flipped[position][bit % 32] ^= 1 << UInt8(bit)
                    #expect(verify(proof: flipped) == .rootMismatch, "\(old) → \(size), proof[\(position)]")
                }
            }
            #expect(verify(proof: Array(proof.dropLast())) == .wrongProofLength)
            #expect(verify(proof: Array(proof.dropFirst())) == .wrongProofLength)
            #expect(verify(proof: proof + [root2]) == .wrongProofLength)
            #expect(verify(proof: [root1] + proof) == .wrongProofLength)
            #expect(verify(proof: []) == .wrongProofLength)
            #expect(verify(root1: root2, root2: root1) == .rootMismatch)
            #expect(verify(root1: Self.roots[old - 1]) == .rootMismatch)
            #expect(verify(root2: Self.roots[size - 1]) == .rootMismatch)
            #expect(verify(size1: n + 1) == .invalidSizes)
            #expect(verify(size1: 0) == .invalidSizes)

            // With the true roots of other sizes, the proof passes only if it is that pair's proof.
            for (size1, size2) in [
                (old - 1, size), (old + 1, size), (old, size - 1), (old, size + 1),
                (old * 2, size), (old, size * 2),
            ]
            where size1 >= 1 && size1 <= size2 && size2 <= 64 && (size1, size2) != (old, size) {
                let accepted =
                    verify(
                        size1: UInt64(size1),
                        size2: UInt64(size2),
                        root1: Self.roots[size1],
                        root2: Self.roots[size2]
                    ) == nil
                let isThatProof = proof == Reference.proof(size1, Self.leaves.prefix(size2))
                #expect(accepted == isThatProof, "\(old) → \(size) as \(size1) → \(size2)")
            }
        }
    }

    @Test("proof requests outside the tree are refused with their reason")
    func refusals() throws {
        let store = Self.store
        #expect(merkleErrorCode { _ = try store.inclusionProof(leafIndex: 5, treeSize: 5) } == .indexOutOfRange)
        #expect(merkleErrorCode { _ = try store.inclusionProof(leafIndex: 0, treeSize: 0) } == .indexOutOfRange)
        #expect(merkleErrorCode { _ = try store.consistencyProof(from: 0, to: 5) } == .invalidSizes)
        #expect(merkleErrorCode { _ = try store.consistencyProof(from: 6, to: 5) } == .invalidSizes)
        #expect(merkleErrorCode { _ = try store.inclusionProof(leafIndex: 0, treeSize: 65) } == .invalidSizes)
        // Straight through the reader, a size beyond the stored tree shows up as a missing node.
        #expect(merkleErrorCode { _ = try MerkleTree.rootHash(size: 65, reader: store) } == .missingNode)
        #expect(
            merkleErrorCode {
                _ = try MerkleTree.inclusionProof(leafIndex: 3, treeSize: 100, reader: store)
            } == .missingNode
        )
        #expect(
            merkleErrorCode {
                _ = try MerkleTree.consistencyProof(from: 3, to: 1000, reader: store)
            } == .missingNode
        )
    }

    @Test("a stored hash of the wrong length is reported, not used")
    func corruptStorage() {
        struct ShortReader: MerkleNodeReader {
            func hashes(of nodes: [NodeID]) -> [NodeID: [UInt8]] {
                Dictionary(uniqueKeysWithValues: nodes.map { ($0, [UInt8](repeating: 7, count: 31)) })
            }
        }
        #expect(merkleErrorCode { _ = try MerkleTree.rootHash(size: 3, reader: ShortReader()) } == .corruptNode)
    }

    @Test("verification refuses any hash that is not 32 bytes, whatever the sizes")
    func hashLengths() {
        let good = MerkleHash.leafHash([1])
        for bad in [[], [UInt8](repeating: 0, count: 31), [UInt8](repeating: 0, count: 33)] {
            #expect(
                merkleErrorCode {
                    try MerkleProof.verifyInclusion(leafHash: bad, leafIndex: 0, treeSize: 1, proof: [], rootHash: bad)
                } == .invalidHashLength
            )
            #expect(
                merkleErrorCode {
                    try MerkleProof.verifyInclusion(
                        leafHash: good,
                        leafIndex: 0,
                        treeSize: 2,
                        proof: [bad],
                        rootHash: good
                    )
                } == .invalidHashLength
            )
            #expect(
                merkleErrorCode {
                    try MerkleProof.verifyConsistency(size1: 1, size2: 2, proof: [bad], root1: good, root2: good)
                } == .invalidHashLength
            )
            #expect(
                merkleErrorCode {
                    try MerkleProof.verifyConsistency(size1: 1, size2: 1, proof: [], root1: bad, root2: bad)
                } == .invalidHashLength
            )
        }
    }

    @Test("indices and sizes near 2^64 − 1 are handled without overflow")
    func hugeSizes() {
        let hash = MerkleHash.leafHash([1])
        let proof = [[UInt8]](repeating: hash, count: 64)
        // The last leaf of the largest tree has 63 left siblings (one per perfect subtree before it).
        #expect(
            merkleErrorCode {
                try MerkleProof.verifyInclusion(
                    leafHash: hash,
                    leafIndex: .max - 1,
                    treeSize: .max,
                    proof: Array(proof.dropLast()),
                    rootHash: hash
                )
            } == .rootMismatch
        )
        #expect(
            merkleErrorCode {
                try MerkleProof.verifyInclusion(
                    leafHash: hash,
                    leafIndex: .max - 1,
                    treeSize: .max,
                    proof: proof,
                    rootHash: hash
                )
            } == .wrongProofLength
        )
        #expect(
            merkleErrorCode {
                try MerkleProof.verifyInclusion(
                    leafHash: hash,
                    leafIndex: .max,
                    treeSize: .max,
                    proof: proof,
                    rootHash: hash
                )
            } == .indexOutOfRange
        )
        #expect(
            merkleErrorCode {
                try MerkleProof.verifyConsistency(size1: .max - 1, size2: .max, proof: proof, root1: hash, root2: hash)
            } != nil
        )
        #expect(
            merkleErrorCode {
                try MerkleProof.verifyConsistency(size1: .max, size2: .max, proof: [], root1: hash, root2: hash)
            } == nil
        )
    }
}
