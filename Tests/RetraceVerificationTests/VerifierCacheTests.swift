import CanonicalJSON
import Foundation
import MerkleLog
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceSimulation
import RetraceStorage
import RetraceVerification
import Synchronization
import Testing

/// The verifier remembers what it verified (events by roster prefix and leaf hash, checkpoints by
/// note text, roster prefixes by their entries). These tests use ONE verifier across scans and
/// prove it never answers from a fact that no longer holds: a changed byte, a forged log re-signed
/// with the log key, a new event.
@Suite("Verifier caches never return a stale verdict")
struct VerifierCacheTests {
    static let inWindow = StoryLedger.time(days: 20)

    static func request(_ product: SGTIN, rma: String? = nil, now: Timestamp = inWindow) -> DockRequest {
        DockRequest(
            scan: product.digitalLink,
            rma: rma,
            orderDigest: nil,
            dock: "litware",
            servesRetailers: ["fabrikam"],
            now: now
        )
    }

    /// A phone sold by Fabrikam and authorised for return (RMA-1): genuine and returnable at Litware.
    static func returnable(_ story: StoryLedger, _ serial: String = "PH-7001") throws -> SGTIN {
        let phone = try StoryLedger.product(serial)
        try story.sell(phone)
        try story.record(
            .returnAuthorize,
            phone,
            by: "fabrikam",
            day: 5,
            details: ["rma": .string("RMA-1"), "reason": .string("no-longer-needed")]
        )
        return phone
    }

    @Test("a repeat scan checks no event signature again, and every entry comes from the cache")
    func repeatScanUsesCache() throws {
        let story = try StoryLedger()
        let phone = try Self.returnable(story)
        let verifier = story.verifier
        let first = try verifier.verdict(Self.request(phone, rma: "RMA-1"))
        #expect(first.code == .genuineReturnable)
        let afterFirst = verifier.evidence.statistics
        #expect(afterFirst.eventSignatures == 5)
        #expect(afterFirst.eventsFromCache == 0)
        let second = try verifier.verdict(Self.request(phone, rma: "RMA-1"))
        #expect(second == first)
        let afterSecond = verifier.evidence.statistics
        #expect(afterSecond.eventSignatures == 5)
        #expect(afterSecond.eventsFromCache == 5)
        #expect(afterSecond.checkpointSignatures == afterFirst.checkpointSignatures)
        #expect(afterSecond.rosterEntries == afterFirst.rosterEntries)
    }

    @Test("an entry altered in storage after a genuine verdict is refused on the next scan by the same verifier")
    func alteredAfterCachedVerdict() throws {
        let story = try StoryLedger()
        let phone = try Self.returnable(story)
        let tamper = Switch()
        let store = TamperingStore(base: story.store) { stored in
            guard tamper.isOn, stored.index == 2 else { return stored }
            return stored.replacing("\"fabrikam\"", with: "\"tailspin\"")
        }
        let verifier = Verifier(store: store, anchors: StoryLedger.anchors, clock: { StoryLedger.logTime })
        #expect(try verifier.verdict(Self.request(phone, rma: "RMA-1")).code == .genuineReturnable)
        tamper.turnOn()
        let result = try verifier.verdict(Self.request(phone, rma: "RMA-1"))
        #expect(result.code == .ledgerIntegrityFailure)
        #expect(result.message.contains("inclusion-failed"))
        tamper.turnOff()
        #expect(try verifier.verdict(Self.request(phone, rma: "RMA-1")).code == .genuineReturnable)
    }

    @Test("a log rewritten and re-signed with the log key: the changed entry misses the cache and fails its signature")
    func forgedLogAfterCachedVerdict() throws {
        let story = try StoryLedger()
        let phone = try Self.returnable(story)
        let forged = Switch()
        let forgery = try ForgedLog(story: story, corrupting: [3])
        let verifier = Verifier(
            store: ForgedLogStore(base: story.store, forgery: forgery, isOn: forged),
            anchors: StoryLedger.anchors,
            clock: { StoryLedger.logTime }
        )
        #expect(try verifier.verdict(Self.request(phone, rma: "RMA-1")).code == .genuineReturnable)
        let before = verifier.evidence.statistics
        forged.turnOn()
        let result = try verifier.verdict(Self.request(phone, rma: "RMA-1"))
        #expect(result.code == .ledgerIntegrityFailure)
        #expect(result.message.contains("authentication-failed"))
        #expect(result.reasons.joined().contains("does not verify under"))
        // The forged checkpoint verifies (it is signed with the real log key) and every proof holds:
        // only the changed entry's signature, checked afresh because its bytes are new, catches it.
        let after = verifier.evidence.statistics
        #expect(after.eventSignatures == before.eventSignatures + 1)
        #expect(after.eventsFromCache >= before.eventsFromCache + 4)
        #expect(after.checkpointSignatures == before.checkpointSignatures + 1)
        do {
            _ = try verifier.verifiedProduct(scan: phone.digitalLink)
            Issue.record("the forged chain verified")
        } catch {
            #expect(error.code == .authenticationFailed)
            #expect(error.index == 3)
        }
    }

    @Test(
        "with several forged signatures the first in log order is reported, as a sequential check would",
        arguments: 1...8
    )
    func firstFailureInLogOrder(round: Int) throws {
        let story = try StoryLedger()
        let phone = try Self.returnable(story, "PH-70\(round)")
        let forgery = try ForgedLog(story: story, corrupting: [2, 4, 5])
        let forged = Switch()
        forged.turnOn()
        let verifier = Verifier(
            store: ForgedLogStore(base: story.store, forgery: forgery, isOn: forged),
            anchors: StoryLedger.anchors,
            clock: { StoryLedger.logTime }
        )
        do {
            _ = try verifier.verifiedProduct(scan: phone.digitalLink)
            Issue.record("the forged chain verified")
        } catch {
            #expect(error.code == .authenticationFailed)
            #expect(error.index == 2)
        }
    }

    @Test("an event appended after a cached verdict changes the verdict: the returned phone's clone is refused")
    func appendedEventChangesVerdict() throws {
        let story = try StoryLedger()
        let phone = try Self.returnable(story)
        let verifier = story.verifier
        #expect(try verifier.verdict(Self.request(phone, rma: "RMA-1")).code == .genuineReturnable)
        let returned = try story.record(
            .returnReceive,
            phone,
            by: "litware",
            day: 7,
            details: ["condition": .string("sealed"), "scanned": .string(phone.digitalLink), "rma": .string("RMA-1")]
        )
        let result = try verifier.verdict(Self.request(phone, now: StoryLedger.time(days: 14)))
        #expect(result.code == .alreadyReturned)
        #expect(result.evidence.last == returned.id.hex)
        #expect(verifier.evidence.statistics.eventSignatures == 6)
    }

    @Test("a stock item scanned as never sold turns returnable once its sale and return authorisation are appended")
    func neverSoldThenSold() throws {
        let story = try StoryLedger()
        let tablet = try StoryLedger.product("TB-7002")
        try story.stock(tablet)
        let verifier = story.verifier
        #expect(try verifier.verdict(Self.request(tablet)).code == .neverSold)
        try story.record(
            .sell,
            tablet,
            by: "fabrikam",
            day: 2,
            details: [
                "orderDigest": .string(StoryLedger.order.hex),
                "returnBy": .string(StoryLedger.time(days: 32).description),
            ]
        )
        try story.record(
            .returnAuthorize,
            tablet,
            by: "fabrikam",
            day: 5,
            details: ["rma": .string("RMA-2"), "reason": .string("defective")]
        )
        #expect(try verifier.verdict(Self.request(tablet, rma: "RMA-2")).code == .genuineReturnable)
    }

    @Test("an offline bundle altered after its original verified is refused by the same verifier")
    func alteredBundleAfterCachedVerify() throws {
        let story = try StoryLedger()
        let phone = try Self.returnable(story)
        let verifier = story.verifier
        let bytes = try verifier.bundle(scan: phone.digitalLink).encoded()
        _ = try verifier.evidence.verify(bytes: bytes)
        let text = String(decoding: bytes, as: UTF8.self)
        let altered = Array(text.replacingOccurrences(of: "RMA-1", with: "RMA-9").utf8)
        #expect(altered != bytes)
        #expect(throws: VerificationError.self) { try verifier.evidence.verify(bytes: altered) }
        #expect(try verifier.evidence.verify(bytes: bytes).products.first?.events.count == 5)
    }

    @Test("a bundle whose proof was damaged after the same bundle verified is still refused by that verifier")
    func damagedProofAfterCachedVerify() throws {
        let story = try StoryLedger()
        let phone = try Self.returnable(story)
        let verifier = story.verifier
        let bundle = try verifier.bundle(scan: phone.digitalLink)
        _ = try verifier.evidence.verify(bundle)
        // The claim (this entry at this index under this root) is true; only its proof is damaged.
        var json = try #require(bundle.json.objectValue)
        var products = try #require(json["products"]?.arrayValue)
        var chain = try #require(products[0].objectValue)
        var events = try #require(chain["events"]?.arrayValue)
        var event = try #require(events[1].objectValue)
        var proof = try #require(event["proof"]?.arrayValue)
        let first = try #require(proof[0].stringValue)
        var hash = try #require(Hex.decode(first))
        hash[0] ^= 0x01
        proof[0] = .string(Hex.encode(hash))
        event["proof"] = .array(proof)
        events[1] = .object(event)
        chain["events"] = .array(events)
        products[0] = .object(chain)
        json["products"] = .array(products)
        let damaged = try ProofBundle(json: .object(json))
        do {
            _ = try verifier.evidence.verify(damaged)
            Issue.record("a bundle with a damaged proof verified")
        } catch {
            #expect(error.code == .inclusionFailed)
        }
        #expect(try verifier.evidence.verify(bundle).products.first?.events.count == 5)
    }
}

/// A flag shared between a test and the store it tampers with.
final class Switch: Sendable {
    private let state = Mutex(false)
    var isOn: Bool { state.withLock { $0 } }
    func turnOn() { state.withLock { $0 = true } }
    func turnOff() { state.withLock { $0 = false } }
}

/// The story's log as someone holding the log key could rewrite it: the signatures of the entries
/// at `corrupting` changed (one base64 character each), the Merkle tree rebuilt over the changed
/// bytes and a checkpoint of it signed with the real log key. Inclusion proofs and the checkpoint
/// all verify; only the entries' signatures do not.
struct ForgedLog: Sendable {
    let entries: [UInt64: StoredEntry]
    let tree: InMemoryMerkleStore
    let checkpoint: StoredCheckpoint

    init(story: StoryLedger, corrupting indices: Set<UInt64>) throws {
        let stored = try story.store.read { reader in
            var all: [StoredEntry] = []
            try reader.forEachEntry(from: 0, to: try reader.treeSize()) { all.append($0) }
            return all
        }
        var entries: [UInt64: StoredEntry] = [:]
        var tree = InMemoryMerkleStore()
        for entry in stored {
            var bytes = entry.bytes
            if indices.contains(entry.index) {
                guard case .object(let object) = try CanonicalJSON.decode(bytes),
                    case .string(let signature)? = object["signature"]
                else { throw VerificationError(.malformedBundle, "entry \(entry.index) has no signature") }
                var characters = Array(signature)
                characters[10] = characters[10] == "A" ? "B" : "A"
                let text = String(decoding: bytes, as: UTF8.self)
                    .replacingOccurrences(of: signature, with: String(characters))
                bytes = Array(text.utf8)
            }
            tree.append(entry: bytes)
            entries[entry.index] = StoredEntry(
                index: entry.index,
                eventID: entry.eventID,
                type: entry.type,
                received: entry.received,
                leafHash: MerkleHash.leafHash(bytes),
                bytes: bytes,
                members: entry.members
            )
        }
        let root = try tree.rootHash()
        let note = try Checkpoint(origin: TestParties.origin, size: tree.size, rootHash: root)
            .sign(with: StoryLedger.parties.log).serialized
        self.entries = entries
        self.tree = tree
        self.checkpoint = StoredCheckpoint(size: tree.size, root: root, note: note)
    }
}

/// Serves the story's ledger, or (when `isOn`) its forged rewrite: entries, Merkle nodes and the
/// latest checkpoint all from the forgery, so everything is consistent but the changed signatures.
struct ForgedLogStore: LedgerStore {
    let base: SQLiteLedgerStore
    let forgery: ForgedLog
    let isOn: Switch

    func read<T>(_ body: (any LedgerReader) throws -> T) throws -> T {
        let on = isOn.isOn
        return try base.read { reader in try body(on ? ForgedReader(base: reader, forgery: forgery) : reader) }
    }

    func write<T>(_ body: (any LedgerWriter) throws -> T) throws -> T {
        throw StorageError(.readOnly, "the forged store is read-only")
    }
}

struct ForgedReader: ForwardingLedgerReader {
    let base: any LedgerReader
    let forgery: ForgedLog

    func hashes(of nodes: [NodeID]) throws -> [NodeID: [UInt8]] { forgery.tree.hashes(of: nodes) }
    func treeSize() throws -> UInt64 { forgery.tree.size }
    func entry(at index: UInt64) throws -> StoredEntry? { forgery.entries[index] }
    func forEachEntry(from: UInt64, to: UInt64, _ body: (StoredEntry) throws -> Void) throws {
        for index in from..<min(to, forgery.tree.size) { if let entry = forgery.entries[index] { try body(entry) } }
    }
    func latestCheckpoint() throws -> StoredCheckpoint? { forgery.checkpoint }
    func checkpoints() throws -> [StoredCheckpoint] { [forgery.checkpoint] }
    func checkpoint(size: UInt64) throws -> StoredCheckpoint? {
        size == forgery.checkpoint.size ? forgery.checkpoint : nil
    }
}
