import Dispatch
import Foundation
import MerkleLog
import RetraceLedger
import RetraceStorage
import Synchronization

/// Reads ahead, on all cores, the Merkle nodes a product bundle's inclusion proofs will need.
///
/// Reading proofs is most of a scan's work (one indexed lookup per node, about 20 per proof at
/// 10^6 entries, one proof per event and roster entry). Gathering runs in one read transaction on
/// one thread; this reads the same nodes first, split over several read transactions in parallel,
/// and ``PrefetchedReader`` then serves them to the gathering. Nothing is kept after the scan. The
/// nodes of a tree of a given size never change in an append-only log, so nodes read in another
/// transaction are the ones the gathering would read; and whatever their source, every proof is
/// still verified against the signed checkpoint's root. A node not read ahead (say a newer
/// checkpoint appeared in between) is simply read by the gathering itself.
enum NodePrefetch {
    /// The distinct nodes of the inclusion proofs of `leaves` in the tree of `treeSize` leaves.
    static func nodes(leaves: [UInt64], treeSize: UInt64) -> [NodeID] {
        var seen: Set<NodeID> = []
        var nodes: [NodeID] = []
        for leaf in leaves where leaf < treeSize {
            var start: UInt64 = 0
            var end = treeSize
            while end - start > 1 {
                let middle = start + (1 << UInt64(63 - (end - start - 1).leadingZeroBitCount))
                let sibling: [NodeID]
                if leaf < middle {
                    sibling = MerkleTree.perfectSubtrees(from: middle, to: end)
                    end = middle
                } else {
                    sibling = MerkleTree.perfectSubtrees(from: start, to: middle)
                    start = middle
                }
                for node in sibling where seen.insert(node).inserted { nodes.append(node) }
            }
        }
        return nodes
    }

    /// The nodes for the product's chain and the roster under the latest checkpoint, read by
    /// `workers` parallel read transactions; empty when there is nothing to read or reading fails.
    /// Nodes the verifier's `cache` holds are not read again (the gathering gets them from it), and
    /// the upper ones read here are kept there.
    static func read(
        product: String,
        store: any LedgerStore,
        workers: Int,
        cache: MerkleNodeCache? = nil
    )
        -> [NodeID: [UInt8]]
    {
        let plan = try? store.read { reader -> (size: UInt64, leaves: [UInt64])? in
            cache?.anchor(to: reader)
            guard let size = try reader.latestCheckpoint()?.size else { return nil }
            let chain = try reader.chain(product)
            guard !chain.isEmpty else { return nil }
            return (size, (try reader.chain(Ledger.rosterChain) + chain).map(\.index))
        }
        guard let plan = plan ?? nil else { return [:] }
        // Proofs the verifier kept need no nodes (a repeated scan against the same checkpoint).
        let leaves = cache.map { cache in plan.leaves.filter { cache.proof(leaf: $0, size: plan.size) == nil } }
        let all = nodes(leaves: leaves ?? plan.leaves, treeSize: plan.size)
        guard !all.isEmpty else { return [:] }
        let held = cache?.cached(all, counting: false) ?? [:]
        let wanted = held.isEmpty ? all : all.filter { held[$0] == nil }
        guard !wanted.isEmpty else { return [:] }
        let parts = max(1, min(workers, wanted.count / 8))
        let found = Mutex<[NodeID: [UInt8]]>([:])
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            let slice = stride(from: part, to: wanted.count, by: parts).map { wanted[$0] }
            guard let hashes = try? store.read({ reader in try reader.hashes(of: slice) }) else { return }
            found.withLock { all in all.merge(hashes) { first, _ in first } }
        }
        let read = found.withLock { $0 }
        cache?.insert(read)
        return read
    }
}

/// A reader whose Merkle nodes come from a read-ahead first (see ``NodePrefetch``), the rest from
/// the underlying reader.
struct PrefetchedReader: ForwardingLedgerReader, ProofCachingReader {
    let base: any LedgerReader
    let nodes: [NodeID: [UInt8]]
    var proofCache: MerkleNodeCache? { (base as? any ProofCachingReader)?.proofCache }

    func hashes(of wanted: [NodeID]) throws -> [NodeID: [UInt8]] {
        var found: [NodeID: [UInt8]] = [:]
        var missing: [NodeID] = []
        for node in wanted {
            if let hash = nodes[node] { found[node] = hash } else { missing.append(node) }
        }
        if !missing.isEmpty { found.merge(try base.hashes(of: missing)) { first, _ in first } }
        return found
    }
}
