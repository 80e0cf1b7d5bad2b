import CanonicalJSON
import Foundation
import MerkleLog
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceLedger
import RetraceSimulation
import RetraceStorage
import RetraceVerification
import Testing
import VerifiableMap

/// A store whose derived rows (chain links, product rows) were edited by someone with write access,
/// while the entries, nodes and checkpoints stay as the log signed them.
struct DerivedRowsStore: LedgerStore {
    let base: SQLiteLedgerStore
    let edit: @Sendable (String, [ChainLink]) -> [ChainLink]
    var products: @Sendable ([ProductRow]) -> [ProductRow] = { $0 }

    func read<T>(_ body: (any LedgerReader) throws -> T) throws -> T {
        try base.read { reader in try body(DerivedRowsReader(base: reader, edit: edit, editProducts: products)) }
    }

    func write<T>(_ body: (any LedgerWriter) throws -> T) throws -> T {
        throw StorageError(.readOnly, "the tampered store is read-only")
    }
}

struct DerivedRowsReader: ForwardingLedgerReader {
    let base: any LedgerReader
    let edit: @Sendable (String, [ChainLink]) -> [ChainLink]
    let editProducts: @Sendable ([ProductRow]) -> [ProductRow]

    func chain(_ chain: String) throws -> [ChainLink] { edit(chain, try base.chain(chain)) }
    func head(of chain: String) throws -> ChainLink? { try self.chain(chain).last }
    func chainHeads(below size: UInt64) throws -> [ChainLink] {
        try base.chainHeads(below: size).compactMap { head in
            try self.chain(head.chain).last(where: { $0.index < size })
        }
    }
    func products(withSerial serial: String) throws -> [ProductRow] {
        editProducts(try base.products(withSerial: serial))
    }
}

@Suite("Head proofs: every verification proves the chain complete")
struct HeadProofTests {
    /// A phone sold, returned and received at Litware's dock; a second phone only commissioned.
    static func story() throws -> (StoryLedger, SGTIN, SGTIN) {
        let story = try StoryLedger()
        let phone = try StoryLedger.product("HP-1")
        let other = try StoryLedger.product("HP-2")
        try story.sell(phone)
        try story.commission(other, day: 1)
        try story.returnToDock(phone, rma: "RMA-HP-1", day: 5)
        return (story, phone, other)
    }

    static func verifier(_ store: any LedgerStore) -> Verifier {
        Verifier(store: store, anchors: StoryLedger.anchors, clock: { StoryLedger.logTime })
    }

    @Test("every checkpoint carries the heads root, and the map reproduces it from the log alone")
    func checkpointCommits() throws {
        let (story, phone, _) = try Self.story()
        let stored = try #require(try story.store.read { try $0.latestCheckpoint() })
        let checkpoint = try Checkpoint.open(stored.note, verifiers: [story.parties.log.verifier], origin: nil)
        let root = try #require(checkpoint.headsRoot)
        #expect(checkpoint.extensions == ["retrace-heads/v1 " + Base64.encode(root)])
        // Replayed from the entries alone, with no derived row read.
        var map = HeadsMap()
        try story.store.read { reader in
            try reader.forEachEntry(from: 0, to: checkpoint.size) { try HeadsIndex.apply($0, to: &map) }
        }
        #expect(map.root == root)
        let head = try #require(map.value(MapKey.product(phone.digitalLink)))
        #expect(head.count == 6 && head.eventID == story.heads[phone]?.bytes)
    }

    @Test("the history, a verdict and a bundle are complete as of the checkpoint; v2 bundles round-trip")
    func complete() throws {
        let (story, phone, _) = try Self.story()
        let history = try story.verifier.history(scan: phone.digitalLink)
        let size = try #require(try story.store.read { try $0.latestCheckpoint() }).size
        #expect(history.completeness == "complete as of checkpoint \(size)")
        let bundle = try story.verifier.bundle(scan: phone.digitalLink)
        #expect(bundle.isVersion2)
        let bytes = try bundle.encoded()
        #expect(String(decoding: bytes, as: UTF8.self).contains("\"format\":\"retrace-bundle/v2\""))
        #expect(try ProofBundle(parsing: bytes).encoded() == bytes)
        let verified = try EvidenceVerifier(anchors: StoryLedger.anchors).verify(bytes: bytes)
        #expect(verified.completeness == .proven(checkpoint: size))
    }

    @Test("unknown-serial carries an absence proof that verifies; a forged one is refused")
    func absence() throws {
        let (story, phone, _) = try Self.story()
        let ghost = try StoryLedger.product("NEVER-MADE")
        let verdict = try story.verifier.verdict(DockRequest(scan: ghost.digitalLink, dock: "litware"))
        #expect(verdict.code == .unknownSerial)
        let proofText = try #require(verdict.absenceProof)
        let proof = try MapProof(bytes: try #require(Base64.decode(proofText)))
        let stored = try #require(try story.store.read { try $0.latestCheckpoint() })
        let root = try #require(
            try Checkpoint.open(stored.note, verifiers: [story.parties.log.verifier], origin: nil).headsRoot
        )
        try proof.verifyAbsence(key: MapKey.product(ghost.digitalLink), root: root)
        // The same proof does not prove a real product absent, and the phone's membership proof
        // cannot be passed off as an absence.
        #expect(throws: MapError.self) { try proof.verifyAbsence(key: MapKey.product(phone.digitalLink), root: root) }
        let member = try #require(try story.verifier.bundle(scan: phone.digitalLink).products.first?.head)
        #expect(throws: MapError(.wrongKind, "")) {
            try member.verifyAbsence(key: MapKey.product(phone.digitalLink), root: root)
        }
    }

    @Test("a remote dock judges unknown-serial from the evidence document: the absence proof must travel and verify")
    func remoteAbsence() throws {
        let (story, phone, other) = try Self.story()
        let ghost = try StoryLedger.product("NEVER-MADE")
        let judge = EvidenceVerifier(anchors: StoryLedger.anchors)
        let request = DockRequest(scan: ghost.digitalLink, dock: "litware")
        let served = try story.verifier.dockEvidence(scan: ghost.digitalLink)
        #expect(served.bundle == nil && served.absence != nil)
        // What travels over HTTP is the canonical JSON document; the client reads it back.
        let wire = try DockEvidence(parsing: try CanonicalJSON.encode(served.json))
        #expect(wire == served)
        let verdict = try judge.verdict(request, evidence: wire, now: StoryLedger.logTime)
        #expect(verdict.code == .unknownSerial && verdict.absenceProof != nil)

        // A service withholding a commissioned product: the checkpoint without the proof, or with
        // the proof of another key (a real product's own serial, or a ghost's), is refused.
        let withheld = DockRequest(scan: other.digitalLink, dock: "litware")
        let stripped = DockEvidence(bundle: nil, others: [], checkpoint: served.checkpoint, absence: nil)
        #expect(
            try judge.verdict(withheld, evidence: stripped, now: StoryLedger.logTime).code == .ledgerIntegrityFailure
        )
        let swapped = DockEvidence(bundle: nil, others: [], checkpoint: served.checkpoint, absence: served.absence)
        #expect(
            try judge.verdict(withheld, evidence: swapped, now: StoryLedger.logTime).code == .ledgerIntegrityFailure
        )
        let member = try #require(try story.verifier.bundle(scan: phone.digitalLink).products.first?.head)
        let membership = DockEvidence(bundle: nil, others: [], checkpoint: served.checkpoint, absence: member)
        let phoneRequest = DockRequest(scan: phone.digitalLink, dock: "litware")
        #expect(
            try judge.verdict(phoneRequest, evidence: membership, now: StoryLedger.logTime).code
                == .ledgerIntegrityFailure
        )
    }

    /// Each edit of derived rows, and the products it is tried on.
    static let edits: [(String, @Sendable (String, [ChainLink]) -> [ChainLink])] = [
        ("the newest link deleted", { _, links in Array(links.dropLast()) }),
        ("a middle link deleted", { _, links in links.count > 2 ? Array(links.prefix(1) + links.dropFirst(2)) : [] }),
        ("every link deleted", { _, _ in [] }),
        (
            "the newest link's event id altered",
            { _, links in
                guard let last = links.last else { return links }
                return links.dropLast() + [
                    ChainLink(
                        chain: last.chain,
                        sequence: last.sequence,
                        index: last.index,
                        eventID: [UInt8](repeating: 7, count: 32),
                        state: last.state
                    )
                ]
            }
        ),
        (
            "a link added, pointing at another entry",
            { _, links in
                guard let last = links.last else { return links }
                return links + [
                    ChainLink(
                        chain: last.chain,
                        sequence: last.sequence + 1,
                        index: 0,
                        eventID: last.eventID,
                        state: last.state
                    )
                ]
            }
        ),
    ]

    @Test(
        "deleted, altered or added chain rows give ledger-integrity-failure, never a shorter history",
        arguments: 0..<5
    )
    func tamperedChains(edit: Int) throws {
        let (story, phone, other) = try Self.story()
        let (name, change) = Self.edits[edit]
        // Tried on a product after its return (six events), a product just commissioned, and the roster.
        for target in [phone.digitalLink, other.digitalLink, Ledger.rosterChain] {
            let store = DerivedRowsStore(
                base: story.store,
                edit: { chain, links in chain == target ? change(chain, links) : links }
            )
            let verifier = Self.verifier(store)
            let scanned = target == Ledger.rosterChain ? phone : (target == phone.digitalLink ? phone : other)
            let verdict = try verifier.verdict(DockRequest(scan: scanned.digitalLink, dock: "litware"))
            #expect(verdict.code == .ledgerIntegrityFailure, "\(name) of \(target): \(verdict.code) \(verdict.reasons)")
            #expect {
                _ = try verifier.history(scan: scanned.digitalLink)
            } throws: { error in
                guard let error = error as? VerificationError else { return false }
                // Never not-found or a shorter history: the map holds the chain the rows lost.
                return [.ledgerIntegrityFailure, .chainBroken, .rosterInvalid].contains(error.code)
            }
            let recycling = try verifier.recyclingProof(scan: scanned.digitalLink)
            #expect(recycling.status == .integrityFailure, "\(name) of \(target): \(recycling.status)")
        }
    }

    @Test("a product whose rows were all deleted is not reported unknown-serial: the map still holds it")
    func deletedProductIsNotUnknown() throws {
        let (story, phone, _) = try Self.story()
        let store = DerivedRowsStore(
            base: story.store,
            edit: { chain, links in chain == phone.digitalLink ? [] : links },
            products: { rows in rows.filter { $0.product != phone.digitalLink } }
        )
        let verdict = try Self.verifier(store).verdict(DockRequest(scan: phone.digitalLink, dock: "litware"))
        #expect(verdict.code == .ledgerIntegrityFailure)
        #expect(verdict.reasons.joined().contains("but the database has none"), "\(verdict.reasons)")
    }

    @Test("the ledger's own verifier and one with pinned keys agree on an untouched ledger")
    func pinnedAndOwn() throws {
        let (story, phone, _) = try Self.story()
        let own = Verifier(ledger: story.ledger, clock: { StoryLedger.logTime })
        let pinned = Self.verifier(story.store)
        #expect(try own.history(scan: phone.digitalLink) == pinned.history(scan: phone.digitalLink))
        #expect(try own.verdict(DockRequest(scan: phone.digitalLink, dock: "litware")).code == .alreadyReturned)
    }
}
