import Foundation
import MerkleLog
import RetraceIdentity
import RetraceLedger
import RetraceStorage
import Synchronization
import Testing

@testable import RetraceVerification

/// The verifier builds a scan's inclusion proofs ahead, reading their nodes in parallel, and keeps
/// them for the gathering. They must be the proofs the store gives, and a proof built from a
/// damaged node must be refused like any other, without outliving the damage.
@Suite("inclusion proofs built ahead")
struct NodePrefetchTests {
    @Test("the proofs built ahead are the store's proofs of the product's chain and the roster")
    func sameProofs() throws {
        let story = try StoryLedger()
        let products = try MerkleNodeCacheTests.products(story, 9, prefix: "PA")
        let cache = MerkleNodeCache()
        NodePrefetch.prepare(product: products[4].digitalLink, store: story.store, workers: 3, cache: cache)
        try story.store.read { reader in
            let size = try #require(try reader.latestCheckpoint()).size
            let leaves = try (reader.chain(Ledger.rosterChain) + reader.chain(products[4].digitalLink)).map(\.index)
            #expect(!leaves.isEmpty)
            for leaf in leaves {
                let expected = try MerkleTree.inclusionProof(leafIndex: leaf, treeSize: size, reader: reader)
                #expect(cache.proof(leaf: leaf, size: size) == expected, "leaf \(leaf)")
            }
        }
    }

    @Test("a product with no chain, or a store that cannot be read, leaves nothing behind")
    func nothingToBuild() throws {
        let story = try StoryLedger()
        _ = try MerkleNodeCacheTests.products(story, 3, prefix: "PN")
        let cache = MerkleNodeCache()
        let absent = try StoryLedger.product("PN-absent")
        NodePrefetch.prepare(product: absent.digitalLink, store: story.store, workers: 2, cache: cache)
        let size = try #require(try story.store.read { try $0.latestCheckpoint() }).size
        #expect((0..<size).allSatisfy { cache.proof(leaf: $0, size: size) == nil })
    }

    @Test(
        "a node damaged in storage while proofs are built ahead is refused, and the verdict recovers with the storage"
    )
    func damagedNode() throws {
        let story = try StoryLedger()
        let products = try MerkleNodeCacheTests.products(story, 10, prefix: "PD")
        let damaged = Switch()
        let store = NodeDamagingStore(base: story.store, isOn: damaged)
        let verifier = Verifier(store: store, anchors: StoryLedger.anchors, clock: { StoryLedger.logTime })
        let fresh = story.verifier
        damaged.turnOn()
        // Built ahead the way a scan does, whatever the core count, then judged.
        NodePrefetch.prepare(product: products[3].digitalLink, store: store, workers: 2, cache: verifier.nodes)
        let refused = try verifier.verdict(MerkleNodeCacheTests.request(products[3]))
        #expect(refused.code == .ledgerIntegrityFailure)
        damaged.turnOff()
        for product in products {
            let request = MerkleNodeCacheTests.request(product)
            #expect(try verifier.verdict(request) == fresh.verdict(request))
        }
    }
}

/// A store whose Merkle nodes come back with their first byte flipped while `isOn`.
struct NodeDamagingStore: LedgerStore {
    let base: any LedgerStore
    let isOn: Switch

    func read<T>(_ body: (any LedgerReader) throws -> T) throws -> T {
        try base.read { reader in try body(NodeDamagingReader(base: reader, isOn: isOn)) }
    }

    func write<T>(_ body: (any LedgerWriter) throws -> T) throws -> T { try base.write(body) }
}

struct NodeDamagingReader: ForwardingLedgerReader {
    let base: any LedgerReader
    let isOn: Switch

    func hashes(of nodes: [NodeID]) throws -> [NodeID: [UInt8]] {
        let found = try base.hashes(of: nodes)
        guard isOn.isOn else { return found }
        return found.mapValues { hash in hash.isEmpty ? hash : [hash[0] ^ 0xFF] + hash.dropFirst() }
    }
}

/// A verifier over a store that prefers one snapshot per reader (a database server: each read
/// transaction costs round trips) reads a scan's evidence in one transaction: no read-ahead on
/// other threads. The same verdicts either way.
@Suite("read transactions per scan")
struct ReadTransactionsTests {
    @Test("a store that prefers one snapshot gets one read per warm scan; an embedded one gets the read-ahead too")
    func oneSnapshot() throws {
        let story = try StoryLedger()
        let products = try MerkleNodeCacheTests.products(story, 4, prefix: "RT")
        let serial = ReadCountingStore(base: story.store, parallel: false)
        let embedded = ReadCountingStore(base: story.store, parallel: true)
        let oneRead = Verifier(store: serial, anchors: StoryLedger.anchors, clock: { StoryLedger.logTime })
        let readAhead = Verifier(store: embedded, anchors: StoryLedger.anchors, clock: { StoryLedger.logTime })
        for product in products {
            let request = MerkleNodeCacheTests.request(product)
            #expect(try oneRead.verdict(request) == readAhead.verdict(request))
        }
        // Warm: the same products again, counted from here.
        serial.reset()
        embedded.reset()
        for product in products {
            let request = MerkleNodeCacheTests.request(product)
            #expect(try oneRead.verdict(request) == readAhead.verdict(request))
        }
        #expect(serial.reads == products.count)
        // The read-ahead only runs where the machine has a second core to run it on.
        if ProcessInfo.processInfo.activeProcessorCount > 1 { #expect(embedded.reads > products.count) }
    }
}

/// Counts read transactions, and says whether it prefers parallel reads as it is told.
final class ReadCountingStore: LedgerStore, @unchecked Sendable {
    let base: any LedgerStore
    let parallel: Bool
    private let count = Mutex(0)

    init(base: any LedgerStore, parallel: Bool) {
        self.base = base
        self.parallel = parallel
    }

    var prefersParallelReads: Bool { parallel }
    var reads: Int { count.withLock { $0 } }
    func reset() { count.withLock { $0 = 0 } }

    func read<T>(_ body: (any LedgerReader) throws -> T) throws -> T {
        count.withLock { $0 += 1 }
        return try base.read(body)
    }

    func write<T>(_ body: (any LedgerWriter) throws -> T) throws -> T { try base.write(body) }
}
