import RetraceCrypto

/// Verification of RFC 9162 inclusion (§2.1.3.2) and consistency (§2.1.4.2) proofs.
///
/// Everything here is input from outside — a proof from a server, roots from checkpoints — so it
/// validates before it hashes: every hash must be exactly 32 bytes (read literally, the RFC loop
/// would accept an empty root with an empty leaf), indices and sizes are checked with plain
/// comparisons that cannot overflow up to 2^64 − 1, and the proof length is compared with the
/// length the sizes call for, so the error says which part is wrong.
public enum MerkleProof {
    /// Checks that `proof` shows the leaf `leafHash` at `leafIndex` in the tree of size `treeSize`
    /// whose root is `rootHash`.
    public static func verifyInclusion(
        leafHash: [UInt8],
        leafIndex: UInt64,
        treeSize: UInt64,
        proof: [[UInt8]],
        rootHash: [UInt8]
    ) throws(MerkleError) {
        try MerkleHash.requireHash(rootHash, "the root hash")
        let computed = try rootFromInclusionProof(
            leafHash: leafHash,
            leafIndex: leafIndex,
            treeSize: treeSize,
            proof: proof
        )
        guard computed == rootHash else {
            throw MerkleError(
                .rootMismatch,
                "root mismatch: computed \(Hex.encode(computed)), expected \(Hex.encode(rootHash)) "
                    + "(leaf \(leafIndex) in a tree of size \(treeSize))"
            )
        }
    }

    /// The root that `proof` leads to from the leaf `leafHash` at `leafIndex` in a tree of size
    /// `treeSize` (RFC 9162 §2.1.3.2 steps 1–4); the caller compares it with a trusted root.
    public static func rootFromInclusionProof(
        leafHash: [UInt8],
        leafIndex: UInt64,
        treeSize: UInt64,
        proof: [[UInt8]]
    ) throws(MerkleError) -> [UInt8] {
        try MerkleHash.requireHash(leafHash, "the leaf hash")
        for (position, hash) in proof.enumerated() {
            try MerkleHash.requireHash(hash, "proof hash \(position)")
        }
        guard leafIndex < treeSize else {
            throw MerkleError(.indexOutOfRange, "leaf index \(leafIndex) is not below the tree size \(treeSize)")
        }
        let expected = inclusionProofLength(leafIndex: leafIndex, treeSize: treeSize)
        guard proof.count == expected else {
            throw MerkleError(
                .wrongProofLength,
                "proof has \(proof.count) hashes, expected \(expected) "
                    + "for leaf \(leafIndex) in a tree of size \(treeSize)"
            )
        }

        var fn = leafIndex
        var sn = treeSize - 1
        var result = leafHash
        for hash in proof {
            guard sn != 0 else { throw MerkleError(.wrongProofLength, "proof is longer than the path to the root") }
            if fn & 1 == 1 || fn == sn {
                result = MerkleHash.nodeHash(hash, result)
                while fn & 1 == 0 && fn != 0 {
                    fn >>= 1
                    sn >>= 1
                }
            } else {
                result = MerkleHash.nodeHash(result, hash)
            }
            fn >>= 1
            sn >>= 1
        }
        guard sn == 0 else { throw MerkleError(.wrongProofLength, "proof ends before reaching the root") }
        return result
    }

    /// Checks that `proof` shows the tree of size `size2` and root `root2` extends the tree of
    /// size `size1` and root `root1`.
    ///
    /// Edge cases follow RFC 9162 (which requires 0 < size1) and the transparency-dev test data:
    /// size1 > size2 and size1 == 0 are refused (every tree extends the empty tree, so such a check
    /// proves nothing and is almost certainly a caller's mistake); for size1 == size2 the proof
    /// must be empty and the roots equal.
    public static func verifyConsistency(
        size1: UInt64,
        size2: UInt64,
        proof: [[UInt8]],
        root1: [UInt8],
        root2: [UInt8]
    ) throws(MerkleError) {
        try MerkleHash.requireHash(root1, "the first root (size \(size1))")
        try MerkleHash.requireHash(root2, "the second root (size \(size2))")
        for (position, hash) in proof.enumerated() {
            try MerkleHash.requireHash(hash, "proof hash \(position)")
        }
        guard size1 <= size2 else {
            throw MerkleError(.invalidSizes, "size1 (\(size1)) is larger than size2 (\(size2))")
        }
        guard size1 > 0 else {
            throw MerkleError(
                .invalidSizes,
                "consistency with the empty tree (size1 = 0) proves nothing: every tree extends it"
            )
        }
        if size1 == size2 {
            guard proof.isEmpty else {
                throw MerkleError(
                    .wrongProofLength,
                    "proof has \(proof.count) hashes, expected 0 since both sizes are \(size1)"
                )
            }
            guard root1 == root2 else {
                throw MerkleError(
                    .rootMismatch,
                    "root mismatch: both sizes are \(size1) but the roots differ "
                        + "(\(Hex.encode(root1)) and \(Hex.encode(root2)))"
                )
            }
            return
        }
        let expected = consistencyProofLength(size1: size1, size2: size2)
        guard proof.count == expected else {
            throw MerkleError(
                .wrongProofLength,
                "proof has \(proof.count) hashes, expected \(expected) from size \(size1) to \(size2)"
            )
        }

        // RFC 9162 §2.1.4.2. When size1 is a power of two its root is the first path element.
        let path = size1 & (size1 - 1) == 0 ? [root1] + proof : proof
        var fn = size1 - 1
        var sn = size2 - 1
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        var first = path[0]
        var second = path[0]
        for hash in path.dropFirst() {
            guard sn != 0 else { throw MerkleError(.wrongProofLength, "proof is longer than the path to the root") }
            if fn & 1 == 1 || fn == sn {
                first = MerkleHash.nodeHash(hash, first)
                second = MerkleHash.nodeHash(hash, second)
                while fn & 1 == 0 && fn != 0 {
                    fn >>= 1
                    sn >>= 1
                }
            } else {
                second = MerkleHash.nodeHash(second, hash)
            }
            fn >>= 1
            sn >>= 1
        }
        guard sn == 0 else { throw MerkleError(.wrongProofLength, "proof ends before reaching the root") }
        guard first == root1 else {
            throw MerkleError(
                .rootMismatch,
                "first root mismatch: computed \(Hex.encode(first)), expected \(Hex.encode(root1)) (size \(size1))"
            )
        }
        guard second == root2 else {
            throw MerkleError(
                .rootMismatch,
                "second root mismatch: computed \(Hex.encode(second)), expected \(Hex.encode(root2)) (size \(size2))"
            )
        }
    }

    /// The number of hashes in `PATH(leafIndex, D[0:treeSize])`, for leafIndex < treeSize: one per
    /// level below the point where the leaf's path and the right edge's path diverge, plus one per
    /// left sibling above it.
    static func inclusionProofLength(leafIndex: UInt64, treeSize: UInt64) -> Int {
        let inner = 64 - (leafIndex ^ (treeSize - 1)).leadingZeroBitCount
        return inner + (leafIndex >> UInt64(inner)).nonzeroBitCount
    }

    /// The number of hashes in `PROOF(size1, D[0:size2])`, for 0 < size1 < size2: the inclusion
    /// path of leaf size1 − 1 above the largest perfect subtree ending at size1, plus that subtree's
    /// root unless it is the whole first tree (then the verifier already has it as root1).
    static func consistencyProofLength(size1: UInt64, size2: UInt64) -> Int {
        let last = size1 - 1
        let inner = 64 - (last ^ (size2 - 1)).leadingZeroBitCount
        let border = (last >> UInt64(inner)).nonzeroBitCount
        let shift = size1.trailingZeroBitCount
        let seed = size1 & (size1 - 1) == 0 ? 0 : 1
        return seed + (inner - shift) + border
    }
}
