import MerkleLog
import RetraceIdentity
import RetraceStorage
import Synchronization
import Testing

@testable import RetraceVerification

/// A store that counts the Merkle nodes read from it.
struct CountingStore: LedgerStore {
    final class Count: Sendable {
        let reads = Mutex<[NodeID: Int]>([:])
        var value: Int { reads.withLock { $0.values.reduce(0, +) } }
        /// Reads of nodes at `level` or above that had been read before.
        func repeatedReads(atOrAbove level: Int) -> Int {
            reads.withLock { $0.filter { $0.key.level >= level }.values.reduce(0) { $0 + $1 - 1 } }
        }
    }

    let base: any LedgerStore
    let count = Count()

    func read<T>(_ body: (any LedgerReader) throws -> T) throws -> T {
        try base.read { reader in try body(CountingReader(base: reader, count: count)) }
    }

    func write<T>(_ body: (any LedgerWriter) throws -> T) throws -> T { try base.write(body) }
}

struct CountingReader: ForwardingLedgerReader {
    let base: any LedgerReader
    let count: CountingStore.Count

    func hashes(of nodes: [NodeID]) throws -> [NodeID: [UInt8]] {
        let found = try base.hashes(of: nodes)
        count.reads.withLock { reads in for node in found.keys { reads[node, default: 0] += 1 } }
        return found
    }
}

/// A long-lived verifier keeps the upper Merkle nodes between scans, and only while every newer
/// checkpoint is proven consistent with the one they were read under.
@Suite("Merkle node cache")
struct MerkleNodeCacheTests {
    static func products(_ story: StoryLedger, _ count: Int, prefix: String) throws -> [SGTIN] {
        var products: [SGTIN] = []
        for number in 0..<count {
            let product = try StoryLedger.product("\(prefix)-\(number)")
            try story.sell(product)
            products.append(product)
        }
        return products
    }

    static func request(_ product: SGTIN) -> DockRequest {
        DockRequest(
            scan: product.digitalLink,
            rma: nil,
            orderDigest: nil,
            dock: "litware",
            servesRetailers: ["fabrikam"],
            now: StoryLedger.time(days: 20)
        )
    }

    @Test("scans after the first read the upper nodes from memory, and answer as a fresh verifier does")
    func upperNodesFromMemory() throws {
        let story = try StoryLedger()
        let products = try Self.products(story, 40, prefix: "NC")
        let kept = CountingStore(base: story.store)
        let verifier = Verifier(store: kept, anchors: StoryLedger.anchors, clock: { StoryLedger.logTime })
        var freshReads = 0
        for product in products {
            let fresh = CountingStore(base: story.store)
            let reference = try Verifier(store: fresh, anchors: StoryLedger.anchors, clock: { StoryLedger.logTime })
                .verdict(Self.request(product))
            #expect(try verifier.verdict(Self.request(product)) == reference)
            freshReads += fresh.count.value
        }
        // Level 4 is the lowest kept for a tree this small (MerkleNodeCache.lowestLevel).
        let size = try #require(try story.store.read { try $0.latestCheckpoint() }).size
        #expect(MerkleNodeCache.lowestLevel(size: size) == 4)
        #expect(verifier.nodeStatistics.fromCache > 0)
        #expect(kept.count.repeatedReads(atOrAbove: 4) == 0, "an upper node was read from storage twice")
        #expect(
            kept.count.value < freshReads,
            "one verifier read \(kept.count.value) nodes from storage; fresh verifiers read \(freshReads)"
        )
    }

    @Test("a repeat scan against the same checkpoint reads no Merkle node from storage and answers the same")
    func repeatScanReusesProofs() throws {
        let story = try StoryLedger()
        let products = try Self.products(story, 12, prefix: "NP")
        let kept = CountingStore(base: story.store)
        let verifier = Verifier(store: kept, anchors: StoryLedger.anchors, clock: { StoryLedger.logTime })
        let first = try products.map { try verifier.verdict(Self.request($0)) }
        let read = kept.count.value
        #expect(read > 0)
        #expect(try products.map { try verifier.verdict(Self.request($0)) } == first)
        #expect(kept.count.value == read, "the repeat scans read \(kept.count.value - read) nodes again")
        // A new checkpoint needs new proofs: they are built (and read) again, and agree with a fresh verifier.
        try story.sell(try StoryLedger.product("NP-late"))
        let fresh = Verifier(store: story.store, anchors: StoryLedger.anchors, clock: { StoryLedger.logTime })
        for product in products {
            #expect(try verifier.verdict(Self.request(product)) == fresh.verdict(Self.request(product)))
        }
        #expect(kept.count.value > read)
    }

    @Test("nodes stay across a checkpoint the log grew to, and go when the log was rewritten under the same key")
    func anchoredByConsistency() throws {
        let story = try StoryLedger()
        let products = try Self.products(story, 24, prefix: "NA")
        let cache = MerkleNodeCache()
        let upper: [NodeID] = try story.store.read { reader in
            cache.anchor(to: reader)
            let size = try #require(try reader.latestCheckpoint()).size
            let nodes = (0..<(size >> 4)).map { NodeID(level: 4, index: $0) }
            cache.insert(try reader.hashes(of: nodes))
            return nodes
        }
        #expect(!upper.isEmpty && cache.cached(upper).count == upper.count)
        let size = try #require(try story.store.read { try $0.latestCheckpoint() }).size
        let proof = try story.store.read { reader in
            try MerkleTree.inclusionProof(leafIndex: 1, treeSize: size, reader: reader)
        }
        cache.remember(proof: proof, leaf: 1, size: size)
        cache.remember(proof: proof, leaf: 2, size: size + 1)  // beyond the anchor: not kept
        #expect(cache.proof(leaf: 1, size: size) == proof)
        #expect(cache.proof(leaf: 2, size: size + 1) == nil)

        // The log grows: the new checkpoint is consistent with the old one, the nodes stay.
        try story.sell(try StoryLedger.product("NA-late"))
        try story.store.read { reader in cache.anchor(to: reader) }
        #expect(cache.cached(upper).count == upper.count)
        #expect(cache.proof(leaf: 1, size: size) == proof)

        // The same log rewritten and re-signed with the real log key: not consistent, all gone.
        let forgery = try ForgedLog(story: story, corrupting: [3])
        let forged = Switch()
        forged.turnOn()
        try ForgedLogStore(base: story.store, forgery: forgery, isOn: forged).read { reader in
            cache.anchor(to: reader)
        }
        #expect(cache.cached(upper).isEmpty)
        #expect(cache.proof(leaf: 1, size: size) == nil)
        _ = products
    }

    @Test("an integrity failure empties the cache, so repaired storage verifies again")
    func integrityFailureEmpties() throws {
        let story = try StoryLedger()
        let products = try Self.products(story, 20, prefix: "NI")
        let forged = Switch()
        let forgery = try ForgedLog(story: story, corrupting: [3])
        let store = ForgedLogStore(base: story.store, forgery: forgery, isOn: forged)
        let watched = Verifier(store: store, anchors: StoryLedger.anchors, clock: { StoryLedger.logTime })
        let genuine = try products.map { try watched.verdict(Self.request($0)) }
        #expect(genuine.allSatisfy { $0.code != .ledgerIntegrityFailure })
        #expect(watched.nodeStatistics.fromCache > 0)
        forged.turnOn()
        #expect(try watched.verdict(Self.request(products[0])).code == .ledgerIntegrityFailure)
        forged.turnOff()
        #expect(try products.map { try watched.verdict(Self.request($0)) } == genuine)
    }
}
