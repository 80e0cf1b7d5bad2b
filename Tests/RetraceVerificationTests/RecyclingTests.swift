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

@Suite("Proof of recycling")
struct RecyclingTests {
    static func recycled(
        _ story: StoryLedger,
        _ laptop: SGTIN,
        grams: Int64,
        certificate: String = "COR-1"
    ) throws
        -> SignedStatement
    {
        try story.sell(laptop)
        try story.returnToDock(laptop, rma: "RMA-\(laptop.serial.value)", day: 5)
        return try story.record(
            .recycle,
            laptop,
            by: "adatum",
            day: 9,
            details: [
                "certificate": .string(certificate), "method": .string("manual-disassembly"),
                "materials": .object(["aluminium": .integer(grams)]),
            ]
        )
    }

    @Test(
        "a laptop recycled by an accredited recycler, with a plausible mass, is verified by serial and by certificate"
    )
    func verified() throws {
        let story = try StoryLedger()
        let laptop = try StoryLedger.product("LT-7001")
        let recycle = try Self.recycled(story, laptop, grams: 1_500)
        let proof = try story.verifier.recyclingProof(scan: laptop.humanReadable)
        #expect(proof.status == .verified)
        #expect(proof.recycleEvent == recycle.id.hex)
        #expect(proof.accreditation?.scheme == "WEEE-AATF")
        #expect(proof.recoveredGrams == 1_500)
        #expect(proof.declaredGrams == 1_800)
        #expect(proof.massCheck == .plausible)
        let byCertificate = try story.verifier.recyclingProofs(certificate: "COR-1")
        #expect(byCertificate.map(\.status) == [.verified])
        #expect { try story.verifier.recyclingProofs(certificate: "COR-404") } throws: {
            ($0 as? VerificationError)?.code == .notFound
        }
    }

    @Test("a long-lived verifier reads the log once for certificates, then only new entries, and agrees with a scan")
    func certificateIndex() throws {
        let story = try StoryLedger()
        _ = try Self.recycled(story, try StoryLedger.product("LT-901"), grams: 1_200, certificate: "COR-A")
        let verifier = story.verifier
        let size = { try story.store.read { try $0.treeSize() } }
        let scan = { (certificate: String) in
            try story.store.read { try EvidenceCollector.recycleEntries(certificate: certificate, reader: $0) }
        }
        #expect(try verifier.recyclingProofs(certificate: "COR-A").map(\.status) == [.verified])
        let first = verifier.certificateIndexEntriesRead
        #expect(first == Int(try size()), "the first lookup reads the whole log once")
        #expect { try verifier.recyclingProofs(certificate: "COR-B") } throws: {
            ($0 as? VerificationError)?.code == .notFound
        }
        #expect(verifier.certificateIndexEntriesRead == first, "nothing new to read")

        let before = try size()
        _ = try Self.recycled(story, try StoryLedger.product("LT-902"), grams: 1_200, certificate: "COR-B")
        _ = try Self.recycled(story, try StoryLedger.product("LT-903"), grams: 1_200, certificate: "COR-A")
        let proofs = try verifier.recyclingProofs(certificate: "COR-A")
        #expect(proofs.count == 2 && proofs.allSatisfy { $0.status == .verified })
        #expect(verifier.certificateIndexEntriesRead == first + Int(try size() - before), "only the new entries")
        // A single recycle has no certificate bundle.
        #expect(try verifier.certificateBundles(certificate: "COR-B").isEmpty)
        #expect(
            try verifier.recyclingProofs(certificate: "COR-B").map(\.product) == [
                try StoryLedger.product("LT-902").digitalLink
            ]
        )
        for certificate in ["COR-A", "COR-B"] {
            #expect(try scan(certificate).count == (certificate == "COR-A" ? 2 : 1))
        }
    }

    @Test("recovering a twentieth of a device's declared mass is an implausible recycling claim")
    func tooLittle() throws {
        let story = try StoryLedger()
        let laptop = try StoryLedger.product("LT-7002")
        _ = try Self.recycled(story, laptop, grams: 90)
        let proof = try story.verifier.recyclingProof(scan: laptop.digitalLink)
        #expect(proof.status == .implausibleMass)
        #expect(proof.massCheck == .tooLow)
        #expect(MassBalance.check(recovered: 1_842, declared: 1_800) == .tooHigh)
        #expect(MassBalance.check(recovered: 1_841, declared: 1_800) == .plausible)
        #expect(MassBalance.check(recovered: 180, declared: 1_800) == .plausible)
        #expect(MassBalance.check(recovered: 179, declared: 1_800) == .tooLow)
        #expect(MassBalance.check(recovered: 10, declared: nil) == .unchecked)
    }

    @Test("a product that was never recycled has no proof of recycling")
    func notRecycled() throws {
        let story = try StoryLedger()
        let laptop = try StoryLedger.product("LT-7003")
        try story.sell(laptop)
        #expect(try story.verifier.recyclingProof(scan: laptop.digitalLink).status == .notRecycled)
    }

    @Test("a pallet certificate proves each member, checks the pallet's mass, and its bundle verifies offline")
    func pallet() throws {
        let story = try StoryLedger()
        let laptops = try (1...3).map { try StoryLedger.product("LT-80\($0)") }
        for (position, laptop) in laptops.enumerated() {
            try story.sell(laptop, massGrams: 2_000)
            try story.returnToDock(laptop, rma: "RMA-P\(position)", day: 5)
        }
        let certificate = try story.recordBatch(
            .recycle,
            laptops,
            by: "adatum",
            day: 10,
            details: [
                "certificate": .string("COR-PALLET-7"), "method": .string("mechanical-shredding"),
                "materials": .object(["aluminium": .integer(3_000), "copper": .integer(1_500)]),
            ]
        )
        let proofs = try story.verifier.recyclingProofs(certificate: "COR-PALLET-7")
        #expect(proofs.count == 3)
        #expect(proofs.allSatisfy { $0.status == .verified && $0.declaredGrams == 6_000 && $0.batchCount == 3 })
        #expect(Set(proofs.compactMap(\.memberIndex)) == [0, 1, 2])
        // A single member's product bundle proves membership by its member proof alone.
        let single = try story.verifier.recyclingProof(scan: laptops[1].digitalLink)
        #expect(single.status == .verified)
        #expect(single.recycleEvent == certificate.id.hex)
        let productBundle = try story.verifier.bundle(scan: laptops[1].digitalLink)
        let member = try #require(productBundle.products.first?.events.last)
        #expect(member.memberIndex == 1)
        #expect(member.members.isEmpty)

        // The certificate bundle, offline: verified, and any change to a member refused.
        let bundles = try story.verifier.certificateBundles(certificate: "COR-PALLET-7")
        let bytes = try #require(bundles.first).encoded()
        let offline = EvidenceVerifier(anchors: StoryLedger.anchors)
        let verified = try offline.verify(bytes: bytes)
        #expect(verified.certificate?.members.count == 3)
        #expect(try offline.recyclingProof(scan: laptops[2].digitalLink, bundle: bytes).declaredGrams == 6_000)
        let text = String(decoding: bytes, as: UTF8.self)
        let forged = text.replacingOccurrences(of: "LT-802", with: "LT-809")
        #expect { try offline.verify(bytes: Array(forged.utf8)) } throws: { $0 is VerificationError }
        // Leaving a member's chain out of the certificate bundle is refused.
        let full = try #require(bundles.first)
        let partial = ProofBundle(
            checkpoint: full.checkpoint,
            roster: full.roster,
            products: Array(full.products.dropFirst()),
            certificate: full.certificate
        )
        #expect { try offline.verify(partial) } throws: { ($0 as? VerificationError)?.code == .certificateMismatch }
        // A member proof that points at another position is refused.
        let chain = try #require(productBundle.products.first)
        var events = chain.events
        let last = try #require(events.last)
        events.removeLast()
        events.append(
            BundleEntry(
                index: last.index,
                entry: last.entry,
                proof: last.proof,
                member: last.member,
                memberIndex: 0,
                memberProof: last.memberProof
            )
        )
        let moved = ProofBundle(
            checkpoint: productBundle.checkpoint,
            roster: productBundle.roster,
            products: [.init(product: chain.product, events: events)]
        )
        #expect { try offline.verify(moved) } throws: { ($0 as? VerificationError)?.code == .memberProofFailed }
    }

    @Test(
        "a recycled serial seen again, even in a log whose operator let an event through, is fraud naming both events"
    )
    func seenAgain() throws {
        let story = try StoryLedger()
        let laptop = try StoryLedger.product("LT-7004")
        let recycle = try Self.recycled(story, laptop, grams: 1_500)
        // A dishonest operator (holding the log key) appends a resale after the recycling, bypassing
        // the ledger's rules, and signs a checkpoint over it.
        let resale = try story.parties.sign(
            .inspect,
            product: laptop,
            previous: recycle.id,
            by: "litware",
            at: StoryLedger.time(days: 40),
            details: ["grade": .string("good")]
        )
        let entry = LogEntry(received: StoryLedger.logTime, signed: resale)
        try story.store.write { writer in
            let size = try writer.treeSize()
            try writer.insert(
                entry: StoredEntry(
                    index: size,
                    eventID: resale.id.bytes,
                    type: "inspect",
                    received: StoryLedger.logTime.secondsSinceEpoch,
                    leafHash: entry.leafHash,
                    bytes: entry.canonicalBytes,
                    members: []
                )
            )
            try writer.insert(
                nodes: MerkleTree.nodesToAppend(leafHashes: [entry.leafHash], startingAt: size, reader: writer)
            )
            let root = try MerkleTree.rootHash(size: size + 1, reader: writer)
            guard let previousHead = try writer.head(of: laptop.digitalLink) else { throw SimulationError("no head") }
            try writer.insert(
                link: ChainLink(
                    chain: laptop.digitalLink,
                    sequence: previousHead.sequence + 1,
                    index: size,
                    eventID: resale.id.bytes,
                    state: previousHead.state
                )
            )
            let note = try Checkpoint(origin: TestParties.origin, size: size + 1, rootHash: root)
                .sign(with: story.parties.log).serialized
            try writer.insert(checkpoint: StoredCheckpoint(size: size + 1, root: root, note: note))
        }
        let proof = try story.verifier.recyclingProof(scan: laptop.digitalLink)
        #expect(proof.status == .reusedAfterRecycling)
        #expect(proof.recycleEvent == recycle.id.hex)
        #expect(proof.laterEvent == resale.id.hex)
        let verdict = try story.verifier.verdict(DockRequest(scan: laptop.digitalLink, now: StoryLedger.time(days: 41)))
        #expect(verdict.code == .ledgerIntegrityFailure)
        #expect(verdict.evidence == [recycle.id.hex, resale.id.hex])
    }
}
