import Dispatch
import Foundation
import MerkleLog
import RetraceLedger
import RetraceStorage
import Synchronization

/// Builds ahead, reading on all cores, the inclusion proofs a product bundle will need, and leaves
/// them in the verifier's ``MerkleNodeCache``, where the gathering then finds them.
///
/// Reading proofs is most of a scan's work (one indexed lookup per node, about 20 per proof at
/// 10^6 entries, one proof per event and roster entry). Gathering runs in one read transaction on
/// one thread; this reads the nodes first, split over several read transactions in parallel. The
/// nodes of a tree of a given size never change in an append-only log, so nodes read in another
/// transaction are the ones the gathering would read (the cache's anchor is proven consistent the
/// same way for both); and whatever their source, every proof is still verified against the signed
/// checkpoint's root, and a failure empties the cache. A proof not built ahead (say a newer
/// checkpoint appeared in between) is simply built by the gathering itself.
enum NodePrefetch {
    /// Builds and keeps the proofs for the product's chain and the roster under the latest
    /// checkpoint that `cache` does not hold yet, with `workers` parallel read transactions; does
    /// nothing when there is nothing to build or reading fails.
    static func prepare(product: String, store: any LedgerStore, workers: Int, cache: MerkleNodeCache) {
        let plan = try? store.read { reader -> (size: UInt64, leaves: [UInt64])? in
            cache.anchor(to: reader)
            guard let size = try reader.latestCheckpoint()?.size else { return nil }
            let chain = try reader.chain(product)
            guard !chain.isEmpty else { return nil }
            return (size, (try reader.chain(Ledger.rosterChain) + chain).map(\.index))
        }
        guard let plan = plan ?? nil else { return }
        // Proofs the verifier kept need no nodes (a repeated scan against the same checkpoint).
        _ = try? MerkleNodeCache.inclusionProofs(
            leaves: plan.leaves.filter { $0 < plan.size },
            size: plan.size,
            reader: ParallelNodeReader(store: store, workers: workers, cache: cache),
            cache: cache
        )
    }
}

/// Merkle nodes from the verifier's cache, the rest read from storage by several read transactions
/// in parallel (and the upper ones among those then kept).
struct ParallelNodeReader: MerkleNodeReader {
    let store: any LedgerStore
    let workers: Int
    let cache: MerkleNodeCache

    func hashes(of wanted: [NodeID]) throws -> [NodeID: [UInt8]] {
        cache.hashes(of: wanted) { missing in
            let parts = max(1, min(workers, missing.count / 8))
            let read = Mutex<[NodeID: [UInt8]]>([:])
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                let slice = stride(from: part, to: missing.count, by: parts).map { missing[$0] }
                guard let hashes = try? store.read({ reader in try reader.hashes(of: slice) }) else { return }
                read.withLock { all in all.merge(hashes) { first, _ in first } }
            }
            return read.withLock { $0 }
        }
    }
}
