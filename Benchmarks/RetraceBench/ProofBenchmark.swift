import Foundation
import MerkleLog
import RetraceSimulation
import RetraceStorage

/// Inclusion and consistency proof generation from the SQLite node table, at several tree sizes
/// of one ledger file (so only n changes, not the file): time per proof and nodes read per proof,
/// beside log2 n. Each node is one indexed SQLite lookup of a stored perfect-subtree hash; no
/// hashing happens when a proof is generated.
enum ProofBenchmark {
    static let proofsPerSize = 1_000

    static func run(_ ledger: LedgerCache.Prepared) throws {
        LedgerCache.warmPageCache(ledger.path)
        let store = try SQLiteLedgerStore.open(path: ledger.path)
        var sizes = [1_000, 10_000, 100_000, 1_000_000, 10_000_000].map(UInt64.init).filter { $0 < ledger.treeSize }
        sizes.append(ledger.treeSize)
        var table = Table(
            "tree size n",
            "log2 n",
            "incl p50 µs",
            "incl p99 µs",
            "incl nodes",
            "cons p50 µs",
            "cons p99 µs",
            "cons nodes",
            "µs per node"
        )
        try store.read { reader in
            let counting = CountingNodeReader(base: reader)
            for n in sizes {
                var rng = SplitMix64(seed: 11, stream: n)
                var inclusion: [UInt64] = []
                let before = counting.nodesRead
                for _ in 0..<proofsPerSize {
                    let leaf = rng.next() % n
                    let start = Measure.now()
                    _ = try MerkleTree.inclusionProof(leafIndex: leaf, treeSize: n, reader: counting)
                    inclusion.append(Measure.now() - start)
                }
                let inclusionNodes = counting.nodesRead - before
                var consistency: [UInt64] = []
                let middle = counting.nodesRead
                for _ in 0..<proofsPerSize {
                    let old = 1 + rng.next() % (n - 1)
                    let start = Measure.now()
                    _ = try MerkleTree.consistencyProof(from: old, to: n, reader: counting)
                    consistency.append(Measure.now() - start)
                }
                let consistencyNodes = counting.nodesRead - middle
                let perNode = Double(inclusion.reduce(0, +)) / 1e3 / Double(max(1, inclusionNodes))
                table.add(
                    "\(n)",
                    Measure.format(log2(Double(n)), 1),
                    Measure.format(Measure.micros(inclusion, 0.5), 1),
                    Measure.format(Measure.micros(inclusion, 0.99), 1),
                    Measure.format(Double(inclusionNodes) / Double(proofsPerSize), 1),
                    Measure.format(Measure.micros(consistency, 0.5), 1),
                    Measure.format(Measure.micros(consistency, 0.99), 1),
                    Measure.format(Double(consistencyNodes) / Double(proofsPerSize), 1),
                    Measure.format(perNode, 2)
                )
            }
        }
        print("\n## Proof generation, ledger of \(ledger.treeSize) entries (\(proofsPerSize) random proofs per size)")
        print("nodes = Merkle node hashes read per proof (one SQLite lookup each); growth should follow log2 n.")
        table.print()
    }
}
