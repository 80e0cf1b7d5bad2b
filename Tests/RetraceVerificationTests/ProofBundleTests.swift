import CanonicalJSON
import Foundation
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceLedger
import RetraceSimulation
import RetraceVerification
import Synchronization
import Testing

@Suite("Offline proof bundles")
struct ProofBundleTests {
    /// A sold phone on a ledger whose roster was updated once (so the bundle carries a roster chain).
    static func soldPhone() throws -> (StoryLedger, SGTIN) {
        let story = try StoryLedger()
        let phone = try StoryLedger.product("PH-2001")
        try story.commission(phone)
        let first = try story.store.read { try $0.entry(at: 0) }
        let firstID = try LogEntry(parsing: #require(first).bytes).statement.id
        try story.ledger.append([
            story.parties.signedRoster(time: StoryLedger.time(days: 0, minutes: 5), previous: firstID)
        ])
        try story.record(.ship, phone, by: "northwind", day: 0, minute: 10, details: ["consignee": .string("fabrikam")])
        try story.record(.receive, phone, by: "fabrikam", day: 1)
        let second = try #require(try story.store.read { try $0.entry(at: 2) })
        try story.ledger.append([
            story.parties.signedRoster(
                time: StoryLedger.time(days: 1, minutes: 5),
                previous: try LogEntry(parsing: second.bytes).statement.id
            )
        ])
        try story.record(.sell, phone, by: "fabrikam", day: 2, details: ["orderDigest": .string(StoryLedger.order.hex)])
        return (story, phone)
    }

    @Test("a product bundle verifies with only the governance and log keys and recomputes the state")
    func roundTrip() throws {
        let (story, phone) = try Self.soldPhone()
        let bytes = try story.verifier.bundle(scan: phone.digitalLink).encoded()
        let verifier = EvidenceVerifier(anchors: StoryLedger.anchors)
        let verified = try verifier.verify(bytes: bytes)
        let item = try #require(verified.products.first)
        #expect(item.events.map(\.statement.type) == [.commission, .ship, .receive, .sell])
        #expect(item.events.map(\.index) == [1, 3, 4, 6])
        #expect(item.state.phase.name == "sold")
        #expect(item.checkpoint.size == 7)
        // Re-encoding a parsed bundle gives the same bytes: the format is canonical.
        #expect(try ProofBundle(parsing: bytes).encoded() == bytes)
        // The file needs its final line feed (verification.md §4.1); a bundle inside another JSON
        // document is read from its value instead.
        #expect(throws: VerificationError.self) { try ProofBundle(parsing: Array(bytes.dropLast())) }
        let parsed = try ProofBundle(parsing: bytes)
        #expect(try ProofBundle(json: parsed.json) == parsed)
        // Other trust roots refuse it.
        let stranger = try NoteSigner.generate(name: "stranger.test")
        #expect {
            try EvidenceVerifier(
                anchors: TrustAnchors(governance: [stranger.verifier], logKey: StoryLedger.anchors.logKey)
            ).verify(bytes: bytes)
        } throws: { ($0 as? VerificationError)?.code == .rosterInvalid }
        #expect {
            try EvidenceVerifier(
                anchors: TrustAnchors(governance: StoryLedger.anchors.governance, logKey: stranger.verifier)
            ).verify(bytes: bytes)
        } throws: { ($0 as? VerificationError)?.code == .checkpointInvalid }
    }

    @Test("every single-byte change of a bundle is refused with a reason")
    func everyByte() throws {
        // A small bundle (one roster, four events) so every position can be tried in a few seconds.
        let story = try StoryLedger()
        let phone = try StoryLedger.product("PH-2003")
        try story.sell(phone)
        let bytes = try story.verifier.bundle(scan: phone.digitalLink).encoded()
        let verifier = EvidenceVerifier(anchors: StoryLedger.anchors)
        _ = try verifier.verify(bytes: bytes)
        let workers = 2
        let results = Mutex<(accepted: [Int], codes: [String: Int], emptyReasons: Int)>(([], [:], 0))
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            var accepted: [Int] = []
            var codes: [String: Int] = [:]
            var emptyReasons = 0
            for position in stride(from: worker, to: bytes.count, by: workers) {
                var changed = bytes
                changed[position] ^= 0x01
                do throws(VerificationError) {
                    _ = try verifier.verify(bytes: changed)
                    accepted.append(position)
                } catch {
                    if error.reason.isEmpty { emptyReasons += 1 }
                    codes[error.code.description, default: 0] += 1
                }
            }
            results.withLock {
                $0.accepted += accepted
                $0.codes.merge(codes, uniquingKeysWith: +)
                $0.emptyReasons += emptyReasons
            }
        }
        let outcome = results.withLock { $0 }
        #expect(outcome.accepted.isEmpty, "accepted changes at \(outcome.accepted.sorted().prefix(10))")
        #expect(outcome.emptyReasons == 0)
        #expect(outcome.codes.values.reduce(0, +) == bytes.count)
        #expect(outcome.codes.count >= 4, "refusal codes: \(outcome.codes)")
    }

    @Test("leaving out any event or roster entry in the middle is refused, naming the gap")
    func removals() throws {
        let (story, phone) = try Self.soldPhone()
        let bundle = try story.verifier.bundle(scan: phone.digitalLink)
        let verifier = EvidenceVerifier(anchors: StoryLedger.anchors)
        let chain = try #require(bundle.products.first)
        for position in chain.events.indices.dropLast() {
            var events = chain.events
            events.remove(at: position)
            let cut = ProofBundle(
                checkpoint: bundle.checkpoint,
                roster: bundle.roster,
                products: [ProofBundle.Chain(product: chain.product, events: events)]
            )
            #expect {
                try verifier.verify(bytes: cut.encoded())
            } throws: { error in
                guard let error = error as? VerificationError else { return false }
                return error.code == .chainBroken && error.reason.contains(position == 0 ? "not commission" : "missing")
            }
        }
        #expect(bundle.roster.map(\.index) == [0, 2, 5])
        for position in bundle.roster.indices.dropLast() {
            var roster = bundle.roster
            roster.remove(at: position)
            let cut = ProofBundle(checkpoint: bundle.checkpoint, roster: roster, products: bundle.products)
            #expect { try verifier.verify(bytes: cut.encoded()) } throws: {
                ($0 as? VerificationError)?.code == .rosterInvalid
            }
        }
        // Dropping the newest event or the newest roster leaves a shorter, consistent history: the
        // checkpoint's heads map refuses it (spec/verification.md §4.4), with or without the head proofs.
        let shorter = ProofBundle(
            checkpoint: bundle.checkpoint,
            roster: bundle.roster,
            products: [
                ProofBundle.Chain(product: chain.product, events: Array(chain.events.dropLast()), head: chain.head)
            ],
            rosterHead: bundle.rosterHead
        )
        #expect(throws: VerificationError(.incompleteHistory, "")) { try verifier.verify(bytes: shorter.encoded()) }
        #expect(throws: VerificationError(.incompleteHistory, "")) {
            try verifier.verify(bytes: shorter.version1.encoded())
        }
        let fewerRosters = ProofBundle(
            checkpoint: bundle.checkpoint,
            roster: Array(bundle.roster.dropLast()),
            products: bundle.products,
            rosterHead: bundle.rosterHead
        )
        #expect(throws: VerificationError(.incompleteHistory, "")) {
            try verifier.verify(bytes: fewerRosters.encoded())
        }
        // The whole bundle is complete as of its checkpoint.
        #expect(try verifier.verify(bundle).completeness == .proven(checkpoint: 7))
    }

    @Test("events moved to another product, reordered or taken from another ledger are refused")
    func splices() throws {
        let (story, phone) = try Self.soldPhone()
        let bundle = try story.verifier.bundle(scan: phone.digitalLink)
        let verifier = EvidenceVerifier(anchors: StoryLedger.anchors)
        let chain = try #require(bundle.products.first)
        var swapped = chain.events
        swapped.swapAt(1, 2)
        #expect {
            try verifier.verify(
                ProofBundle(
                    checkpoint: bundle.checkpoint,
                    roster: bundle.roster,
                    products: [.init(product: chain.product, events: swapped)]
                )
            )
        } throws: { ($0 as? VerificationError)?.code == .chainBroken }
        let other = try StoryLedger.product("PH-2002").digitalLink
        #expect {
            try verifier.verify(
                ProofBundle(
                    checkpoint: bundle.checkpoint,
                    roster: bundle.roster,
                    products: [.init(product: other, events: chain.events)]
                )
            )
        } throws: { ($0 as? VerificationError)?.code == .chainBroken }
        // The same story in another ledger: its checkpoint is signed by the same test log key but
        // covers a different tree, so this ledger's proofs do not lead to it.
        let (elsewhere, _) = try Self.soldPhone()
        try elsewhere.record(.commission, try StoryLedger.product("XX-1"), by: "northwind", day: 3)
        let foreign = try elsewhere.verifier.bundle(scan: phone.digitalLink)
        #expect {
            try verifier.verify(
                ProofBundle(
                    checkpoint: foreign.checkpoint,
                    roster: bundle.roster,
                    products: bundle.products
                )
            )
        } throws: { ($0 as? VerificationError)?.code == .inclusionFailed }
    }
}
