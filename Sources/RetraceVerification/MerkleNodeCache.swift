import MerkleLog
import RetraceStorage
import Synchronization

/// The upper levels of the Merkle tree, kept by a long-lived verifier across scans.
///
/// Reading proofs is most of a scan's work: about 29 node lookups per inclusion proof at 10^6
/// entries, one proof per event. The top of the tree is shared by every proof, so a service that
/// keeps the top 15 levels (at most 2^16 nodes, a few MiB) reads only the few lowest nodes of each
/// proof from storage.
///
/// Keeping a node across scans assumes the log only grew: in an append-only log the hash of a
/// complete subtree never changes. That is checked, not assumed: the cache is anchored to the
/// checkpoint its nodes were read under, and when a scan sees another checkpoint the two are
/// proven consistent (RFC 9162 §2.1.4) before the nodes are used again; a log that was rewritten
/// or forked fails that proof and the cache is emptied. Whatever the cache holds, every proof is
/// still verified against a signed checkpoint, so a wrong node could only make a scan fail, never
/// pass: on any integrity failure the verifier empties the cache too.
final class MerkleNodeCache: Sendable {
    /// A checkpoint's size and root (as stored) that the cached nodes are consistent with.
    private struct Anchor: Equatable {
        let size: UInt64
        let root: [UInt8]
    }

    /// A leaf's inclusion proof in a tree of a given size: a function of the log alone.
    private struct ProofKey: Hashable {
        let leaf: UInt64
        let size: UInt64
    }

    private struct State {
        var anchor: Anchor?
        var nodes: [NodeID: [UInt8]] = [:]
        var proofs: [ProofKey: [[UInt8]]] = [:]
    }

    static let capacity = 1 << 16
    /// Whole inclusion proofs kept: 16,384 of about 17–20 hashes, some 10 MiB.
    static let proofCapacity = 1 << 14
    private let state = Mutex(State())
    private let lookups = Atomic<Int>(0)
    private let hits = Atomic<Int>(0)

    /// The lowest level kept for a tree of `size` leaves: the top 15 levels, at least level 4.
    static func lowestLevel(size: UInt64) -> Int { max(4, (64 - size.leadingZeroBitCount) - 15) }

    /// (lookups, served from the cache) since the verifier started, for the tests and benchmarks.
    var statistics: (lookups: Int, hits: Int) { (lookups.load(ordering: .relaxed), hits.load(ordering: .relaxed)) }

    func removeAll() {
        state.withLock { $0 = State() }
    }

    /// Checks that `reader`'s latest checkpoint is consistent with the one the cached nodes were
    /// read under (reading the consistency proof from `reader` itself, never from the cache), and
    /// empties the cache when it is not or cannot be shown to be.
    func anchor(to reader: any LedgerReader) {
        guard let stored = try? reader.latestCheckpoint() else { return }
        let latest = Anchor(size: stored.size, root: stored.root)
        state.withLock { state in
            guard let anchor = state.anchor else {
                state.anchor = latest
                return
            }
            guard anchor != latest else { return }
            if Self.consistent(anchor, latest, reader: reader) {
                // One log: the larger tree's complete subtrees include the smaller one's.
                if latest.size > anchor.size { state.anchor = latest }
            } else {
                state.nodes = [:]
                state.proofs = [:]
                state.anchor = latest
            }
        }
    }

    /// Whether two checkpoints are of one append-only log, by a consistency proof read from storage.
    private static func consistent(_ a: Anchor, _ b: Anchor, reader: any LedgerReader) -> Bool {
        let (old, new) = a.size <= b.size ? (a, b) : (b, a)
        guard old.size < new.size else { return false }  // one size, two roots: a fork
        guard old.size > 0 else { return true }
        do {
            let proof = try MerkleTree.consistencyProof(from: old.size, to: new.size, reader: reader)
            try MerkleProof.verifyConsistency(
                size1: old.size,
                size2: new.size,
                proof: proof,
                root1: old.root,
                root2: new.root
            )
            return true
        } catch {
            return false
        }
    }

    /// The inclusion proof of `leaf` in the tree of `size` leaves, built earlier by this verifier.
    ///
    /// A scan proves each of a product's events against the latest checkpoint; a second scan of
    /// the product against the same checkpoint needs the same proofs, and rebuilding them (a
    /// lookup per node, most below the cached levels, hence from storage) was about 40 % of a warm
    /// 20-event scan's instructions. A proof depends only on the log, so it is kept under the same
    /// anchor as the nodes and dropped with them; it is verified against the signed root on every
    /// use all the same.
    func proof(leaf: UInt64, size: UInt64) -> [[UInt8]]? {
        state.withLock { $0.proofs[ProofKey(leaf: leaf, size: size)] }
    }

    /// Keeps a proof built from nodes read under the current anchor (not beyond it).
    func remember(proof: [[UInt8]], leaf: UInt64, size: UInt64) {
        state.withLock { state in
            guard let anchor = state.anchor, size <= anchor.size else { return }
            if state.proofs.count >= Self.proofCapacity { state.proofs = [:] }
            state.proofs[ProofKey(leaf: leaf, size: size)] = proof
        }
    }

    /// The cached hashes among `wanted`.
    func cached(_ wanted: [NodeID]) -> [NodeID: [UInt8]] {
        lookups.add(wanted.count, ordering: .relaxed)
        let found = state.withLock { state -> [NodeID: [UInt8]] in
            var found: [NodeID: [UInt8]] = [:]
            guard !state.nodes.isEmpty else { return found }
            for node in wanted { if let hash = state.nodes[node] { found[node] = hash } }
            return found
        }
        hits.add(found.count, ordering: .relaxed)
        return found
    }

    /// `wanted`'s hashes: those held here, the rest from `readMissing` (storage), of which the
    /// upper levels are then kept. What every reader in front of this cache does.
    func hashes(
        of wanted: [NodeID],
        readingMissing readMissing: ([NodeID]) throws -> [NodeID: [UInt8]]
    ) rethrows -> [NodeID: [UInt8]] {
        var found = cached(wanted)
        let missing = found.isEmpty ? wanted : wanted.filter { found[$0] == nil }
        guard !missing.isEmpty else { return found }
        let read = try readMissing(missing)
        insert(read)
        found.merge(read) { first, _ in first }
        return found
    }

    /// Keeps the nodes of the upper levels among those just read from storage.
    func insert(_ read: [NodeID: [UInt8]]) {
        state.withLock { state in
            guard let size = state.anchor?.size else { return }
            let lowest = Self.lowestLevel(size: size)
            for (node, hash) in read where node.level >= lowest && node.firstLeaf &+ node.leafCount <= size {
                if state.nodes.count >= Self.capacity { state.nodes = [:] }
                state.nodes[node] = hash
            }
        }
    }
}

/// A reader whose Merkle nodes come from the verifier's ``MerkleNodeCache`` when it holds them,
/// the rest from storage (and the upper ones among those are then kept).
struct CachedNodeReader: ForwardingLedgerReader, ProofCachingReader {
    let base: any LedgerReader
    let cache: MerkleNodeCache
    var proofCache: MerkleNodeCache? { cache }

    func hashes(of wanted: [NodeID]) throws -> [NodeID: [UInt8]] {
        try cache.hashes(of: wanted) { missing in try base.hashes(of: missing) }
    }

    /// Entries are not altered here, so the store's bulk read (one query on PostgreSQL) is kept.
    func entries(at indices: [UInt64]) throws -> [UInt64: StoredEntry] { try base.entries(at: indices) }
}

/// A reader that can keep whole inclusion proofs across scans (see ``MerkleNodeCache/proof(leaf:size:)``).
protocol ProofCachingReader {
    var proofCache: MerkleNodeCache? { get }
}

extension MerkleNodeCache {
    /// The inclusion proof of `leaf` in the tree of `size`, from the cache of `reader` when it
    /// keeps one and holds the proof, else built from `reader`'s nodes (and then kept).
    static func inclusionProof(leaf: UInt64, size: UInt64, reader: any LedgerReader) throws -> [[UInt8]] {
        let cache = (reader as? any ProofCachingReader)?.proofCache
        if let proof = cache?.proof(leaf: leaf, size: size) { return proof }
        let proof = try MerkleTree.inclusionProof(leafIndex: leaf, treeSize: size, reader: reader)
        cache?.remember(proof: proof, leaf: leaf, size: size)
        return proof
    }

    /// The inclusion proofs of `leaves` in the tree of `size`, in order: those the cache of
    /// `reader` holds from it, the rest built together (``MerkleTree/inclusionProofs(leafIndices:treeSize:reader:)``)
    /// and then kept.
    static func inclusionProofs(leaves: [UInt64], size: UInt64, reader: any LedgerReader) throws -> [[[UInt8]]] {
        try inclusionProofs(
            leaves: leaves,
            size: size,
            reader: reader,
            cache: (reader as? any ProofCachingReader)?.proofCache
        )
    }

    /// The same, with the proofs kept in (and taken from) `cache` when there is one.
    static func inclusionProofs(
        leaves: [UInt64],
        size: UInt64,
        reader: some MerkleNodeReader,
        cache: MerkleNodeCache?
    ) throws -> [[[UInt8]]] {
        var proofs = leaves.map { cache?.proof(leaf: $0, size: size) }
        let missing = proofs.indices.filter { proofs[$0] == nil }
        guard !missing.isEmpty else { return proofs.compactMap { $0 } }
        let built = try MerkleTree.inclusionProofs(
            leafIndices: missing.map { leaves[$0] },
            treeSize: size,
            reader: reader
        )
        for (position, proof) in zip(missing, built) {
            proofs[position] = proof
            cache?.remember(proof: proof, leaf: leaves[position], size: size)
        }
        return proofs.compactMap { $0 }
    }
}
