import CanonicalJSON
import Foundation
import MerkleLog
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceTestSupport
import RetraceVerification
import Testing

/// The files of spec/vectors/bundle/: built here from the fixed test keys and fixed times, so the
/// test both regenerates them byte for byte and checks the verifier against the stored files.
/// Set RETRACE_WRITE_VECTORS=1 to rewrite them after a deliberate format change.
@Suite("Bundle test vectors (spec/vectors/bundle)")
struct BundleVectorTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../spec/vectors/bundle").standardizedFileURL

    struct Case {
        let file: String
        let bytes: [UInt8]
        let error: VerificationError.Code?
        let description: String
    }

    /// The story behind the vectors: a phone sold and returned, and a pallet of two laptops recycled.
    static func cases() throws -> [Case] {
        let story = try StoryLedger()
        let phone = try StoryLedger.product("VEC-PHONE-1")
        try story.sell(phone)
        try story.returnToDock(phone, rma: "RMA-V1", day: 6)
        let laptops = try ["VEC-LAPTOP-1", "VEC-LAPTOP-2"].map { try StoryLedger.product($0) }
        for (position, laptop) in laptops.enumerated() {
            try story.sell(laptop, day: 1, massGrams: 2_100)
            try story.returnToDock(laptop, rma: "RMA-L\(position)", day: 7)
        }
        try story.recordBatch(
            .recycle,
            laptops,
            by: "adatum",
            day: 12,
            details: [
                "certificate": .string("COR-VEC-1"), "method": .string("manual-disassembly"),
                "materials": .object(["aluminium": .integer(2_400), "glass": .integer(900)]),
            ]
        )
        // Last, the brand owner describes the GTIN, then corrects it: the class chain every bundle of
        // this GTIN carries (appended after the story, so the earlier entries keep their indices).
        let gtin = phone.gtin.digits
        try story.recordClass(
            gtin: gtin,
            day: 13,
            details: ["name": "Northwind Phone X", "model": "NX-26", "massGrams": .integer(204)]
        )
        try story.recordClass(
            gtin: gtin,
            day: 14,
            details: [
                "name": "Northwind Phone X", "model": "NX-26",
                "image": .object([
                    "url": "https://img.northwind.test/nx-26.png",
                    "sha256": .string(Hex.encode(SHA256.hash(Array("nx-26.png".utf8)))),
                ]),
            ]
        )
        let verifier = story.verifier
        let product = try verifier.bundle(scan: phone.digitalLink)
        let member = try verifier.bundle(scan: laptops[1].digitalLink)
        let certificate = try #require(try verifier.certificateBundles(certificate: "COR-VEC-1").first)
        let chain = try #require(product.products.first)

        func with(_ events: [BundleEntry]) -> ProofBundle {
            ProofBundle(
                checkpoint: product.checkpoint,
                roster: product.roster,
                products: [.init(product: chain.product, events: events)]
            )
        }
        var missing = chain.events
        missing.remove(at: 3)
        var reordered = chain.events
        reordered.swapAt(2, 3)
        var badProof = chain.events
        let third = badProof[2]
        var hashes = third.proof
        hashes[0][0] ^= 0x01
        badProof[2] = BundleEntry(index: third.index, entry: third.entry, proof: hashes)
        let memberChain = try #require(member.products.first)
        var memberEvents = memberChain.events
        let recycle = try #require(memberEvents.last)
        memberEvents[memberEvents.count - 1] = BundleEntry(
            index: recycle.index,
            entry: recycle.entry,
            proof: recycle.proof,
            member: recycle.member,
            memberIndex: 0,
            memberProof: recycle.memberProof
        )
        let note = try Checkpoint(parsing: String(product.checkpoint.split(separator: "\n\n")[0]) + "\n")
        let wrongKey = try note.sign(with: story.parties.governance).serialized
        let valid = try product.encoded()
        let text = String(decoding: valid, as: UTF8.self)
        let flipped: [UInt8]
        if let range = text.range(of: "\"received\":\"2026-12-01T00:00:00Z\"") {
            flipped = Array(text.replacingCharacters(in: range, with: "\"received\":\"2026-12-01T00:00:01Z\"").utf8)
        } else {
            flipped = valid
        }
        // Issue 16 points 7 and 8: a member whose `previous` was changed fails its member proof
        // (checked before the chain link), and a batch event without its member is malformed.
        let recycleMember = try #require(recycle.member)
        var changedPrevious = memberChain.events
        changedPrevious[changedPrevious.count - 1] = BundleEntry(
            index: recycle.index,
            entry: recycle.entry,
            proof: recycle.proof,
            member: BatchMember(
                product: recycleMember.product,
                previous: try Digest(hex: String(repeating: "ab", count: 32), field: "previous")
            ),
            memberIndex: recycle.memberIndex,
            memberProof: recycle.memberProof
        )
        var withoutMember = memberChain.events
        withoutMember[withoutMember.count - 1] = BundleEntry(
            index: recycle.index,
            entry: recycle.entry,
            proof: recycle.proof
        )
        func memberBundle(_ events: [BundleEntry]) throws -> [UInt8] {
            try ProofBundle(
                checkpoint: member.checkpoint,
                roster: member.roster,
                products: [.init(product: memberChain.product, events: events)]
            ).encoded()
        }
        let pretty = Array(String(decoding: valid, as: UTF8.self).replacingOccurrences(of: ",\"", with: ", \"").utf8)
        // The newest event dropped, the head proofs kept: a consistent but incomplete history.
        let truncated = ProofBundle(
            checkpoint: product.checkpoint,
            roster: product.roster,
            products: [.init(product: chain.product, events: Array(chain.events.dropLast()), head: chain.head)],
            rosterHead: product.rosterHead
        )
        // The same checkpoint re-signed without its heads line: what a ledger signed before the map.
        let plain = try Checkpoint(origin: note.origin, size: note.size, rootHash: note.rootHash)
            .sign(with: story.parties.log).serialized
        let before = ProofBundle(checkpoint: plain, roster: product.roster, products: product.version1.products)
        let productClass = try #require(product.productClass)
        func withClass(_ productClass: ProofBundle.ClassChain?) -> ProofBundle {
            ProofBundle(
                checkpoint: product.checkpoint,
                roster: product.roster,
                products: product.products,
                rosterHead: product.rosterHead,
                productClass: productClass
            )
        }

        return [
            Case(
                file: "valid-product.json",
                bytes: valid,
                error: nil,
                description: "a phone commissioned, shipped, received, sold, return authorised and received back; "
                    + "v2, with the class chain of its GTIN (two product-class statements: name, model, image)"
            ),
            Case(
                file: "valid-v2-without-class.json",
                bytes: try withClass(nil).encoded(),
                error: nil,
                description: "valid-product.json without productClass: still valid, no product class shown"
            ),
            Case(
                file: "invalid-class-head-stripped.json",
                bytes: try withClass(.init(gtin: productClass.gtin, entries: productClass.entries, head: nil))
                    .encoded(),
                error: .incompleteHistory,
                description: "valid-product.json with the class chain's head proof left out"
            ),
            Case(
                file: "invalid-class-stale.json",
                bytes: try withClass(
                    .init(
                        gtin: productClass.gtin,
                        entries: Array(productClass.entries.dropLast()),
                        head: productClass.head
                    )
                ).encoded(),
                error: .incompleteHistory,
                description: "valid-product.json showing the GTIN's first class statement, not the correction in force"
            ),
            Case(
                file: "invalid-class-stripped.json",
                bytes: try withClass(.init(gtin: productClass.gtin, entries: [], head: productClass.head)).encoded(),
                error: .incompleteHistory,
                description: "valid-product.json with the class statements removed, the head proof kept"
            ),
            Case(
                file: "valid-member.json",
                bytes: try member.encoded(),
                error: nil,
                description: "a laptop whose recycling is one member of a pallet certificate (member proof)"
            ),
            Case(
                file: "valid-certificate.json",
                bytes: try certificate.encoded(),
                error: nil,
                description: "the pallet certificate COR-VEC-1 with the chain of each of its two members"
            ),
            Case(
                file: "invalid-byte-changed.json",
                bytes: flipped,
                error: .inclusionFailed,
                description: "valid-product.json with one byte of the commission's receive time changed"
            ),
            Case(
                file: "invalid-event-missing.json",
                bytes: try with(missing).encoded(),
                error: .chainBroken,
                description: "the sale (fourth event) left out of the middle of the chain"
            ),
            Case(
                file: "invalid-events-reordered.json",
                bytes: try with(reordered).encoded(),
                error: .chainBroken,
                description: "the receive and sell events swapped"
            ),
            Case(
                file: "invalid-proof.json",
                bytes: try with(badProof).encoded(),
                error: .inclusionFailed,
                description: "one bit of the third event's inclusion proof changed"
            ),
            Case(
                file: "invalid-checkpoint-key.json",
                bytes: try ProofBundle(checkpoint: wrongKey, roster: product.roster, products: product.products)
                    .encoded(),
                error: .checkpointInvalid,
                description: "the checkpoint signed by the governance key, not the log key"
            ),
            Case(
                file: "invalid-roster-missing.json",
                bytes: try ProofBundle(checkpoint: product.checkpoint, roster: [], products: product.products)
                    .encoded(),
                error: .rosterInvalid,
                description: "the roster entries left out"
            ),
            Case(
                file: "invalid-member-index.json",
                bytes: try ProofBundle(
                    checkpoint: member.checkpoint,
                    roster: member.roster,
                    products: [.init(product: memberChain.product, events: memberEvents)]
                ).encoded(),
                error: .memberProofFailed,
                description: "valid-member.json claiming member index 0 instead of 1"
            ),
            Case(
                file: "invalid-certificate-partial.json",
                bytes: try ProofBundle(
                    checkpoint: certificate.checkpoint,
                    roster: certificate.roster,
                    products: Array(certificate.products.dropFirst()),
                    certificate: certificate.certificate
                ).encoded(),
                error: .certificateMismatch,
                description: "valid-certificate.json without its first member's chain"
            ),
            Case(
                file: "invalid-not-canonical.json",
                bytes: pretty,
                error: .malformedBundle,
                description: "valid-product.json with spaces after commas (not canonical JSON)"
            ),
            Case(
                file: "invalid-no-final-line-feed.json",
                bytes: Array(valid.dropLast()),
                error: .malformedBundle,
                description: "valid-product.json without its final line feed (verification.md §4.1)"
            ),
            Case(
                file: "invalid-member-previous.json",
                bytes: try memberBundle(changedPrevious),
                error: .memberProofFailed,
                description:
                    "valid-member.json with the recycle member's previous changed to ab…ab: the member "
                    + "proof fails before the chain link is compared (verification.md §1 order)"
            ),
            Case(
                file: "invalid-member-missing.json",
                bytes: try memberBundle(withoutMember),
                error: .malformedBundle,
                description: "valid-member.json with member, memberIndex and memberProof left out of the batch event"
            ),
            Case(
                file: "invalid-newest-event-dropped.json",
                bytes: try truncated.encoded(),
                error: .incompleteHistory,
                description: "valid-product.json (v2) without its newest event (the return receipt), head proofs kept"
            ),
            Case(
                file: "invalid-head-proofs-stripped.json",
                bytes: try truncated.version1.encoded(),
                error: .incompleteHistory,
                description: "the same as v1: no head proofs, though its checkpoint commits to every chain's head"
            ),
            Case(
                file: "valid-v1-before-heads.json",
                bytes: try before.encoded(),
                error: nil,
                description: "a v1 bundle whose checkpoint has no heads line (signed before the map): verifies, "
                    + "completeness not proven"
            ),
        ]
    }

    static func expectedJSON(_ cases: [Case]) throws -> [UInt8] {
        let verifier = EvidenceVerifier(anchors: StoryLedger.anchors)
        var list: [JSONValue] = []
        for item in cases {
            var object: JSONObject = ["file": .string(item.file), "description": .string(item.description)]
            if let error = item.error {
                object["valid"] = .bool(false)
                object["error"] = .string(error.description)
            } else {
                let verified = try verifier.verify(bytes: item.bytes)
                object["valid"] = .bool(true)
                object["checkpointSize"] = .integer(Int64(verified.checkpoint.size))
                object["completeness"] = .string(verified.completeness.description)
                if let productClass = verified.products.first?.productClass {
                    object["productClass"] = .object([
                        "event": .string(productClass.id.hex), "index": .integer(Int64(productClass.index)),
                        "name": .string(productClass.details.name),
                        "model": productClass.details.model.map { .string($0) } ?? .null,
                    ])
                }
                object["products"] = .array(
                    verified.products.map { product in
                        .object([
                            "product": .string(product.product.digitalLink), "passport": .string(product.passport.hex),
                            "phase": .string(product.state.phase.name),
                            "events": .array(
                                product.events.map {
                                    .object([
                                        "index": .integer(Int64($0.index)), "id": .string($0.id.hex),
                                        "type": .string($0.statement.type.name),
                                    ])
                                }
                            ),
                        ])
                    }
                )
            }
            list.append(.object(object))
        }
        let anchors: JSONObject = [
            "governance": .array(StoryLedger.anchors.governance.map { .string($0.description) }),
            "logKey": .string(StoryLedger.anchors.logKey.description),
            "origin": .string(StoryLedger.anchors.origin ?? ""),
        ]
        return try CanonicalJSON.encode(.object(["anchors": .object(anchors), "cases": .array(list)])) + [0x0A]
    }

    @Test("the vectors regenerate byte for byte from the fixed test keys and times")
    func regenerate() throws {
        let cases = try Self.cases()
        let expected = try Self.expectedJSON(cases)
        let files =
            cases.map { (url: Self.folder.appendingPathComponent($0.file), bytes: $0.bytes) }
            + [(url: Self.folder.appendingPathComponent("expected.json"), bytes: expected)]
        switch try SpecVectors.check(files) {
        case .rewritten(let note): Issue.record("\(note)")
        case .compared(let differing): #expect(differing.isEmpty, "\(differing) differ from the regenerated bundles")
        }
    }

    @Test(
        "every stored vector verifies, or is refused with its expected error code, using only expected.json's anchors"
    )
    func storedVectors() throws {
        let expected = try CanonicalJSON.decode(
            [UInt8](Data(contentsOf: Self.folder.appendingPathComponent("expected.json"))).dropLast(),
            options: .strict
        )
        let anchorsJSON = try #require(expected["anchors"])
        let anchors = TrustAnchors(
            governance: try (anchorsJSON["governance"]?.arrayValue ?? []).map {
                try NoteVerifier(parsing: $0.stringValue ?? "")
            },
            logKey: try NoteVerifier(parsing: anchorsJSON["logKey"]?.stringValue ?? ""),
            origin: anchorsJSON["origin"]?.stringValue
        )
        let verifier = EvidenceVerifier(anchors: anchors)
        let cases = try #require(expected["cases"]?.arrayValue)
        #expect(cases.count == 22)
        for item in cases {
            let file = try #require(item["file"]?.stringValue)
            let bytes = try [UInt8](Data(contentsOf: Self.folder.appendingPathComponent(file)))
            if item["valid"]?.boolValue == true {
                let verified = try verifier.verify(bytes: bytes)
                let products = item["products"]?.arrayValue ?? []
                #expect(verified.products.count == products.count, "\(file)")
                for (got, want) in zip(verified.products, products) {
                    #expect(got.passport.hex == want["passport"]?.stringValue, "\(file)")
                    #expect(got.state.phase.name == want["phase"]?.stringValue, "\(file)")
                    #expect(
                        got.events.map(\.id.hex)
                            == (want["events"]?.arrayValue ?? []).map { $0["id"]?.stringValue ?? "" }
                    )
                }
                #expect(Int64(verified.checkpoint.size) == item["checkpointSize"]?.integerValue)
                #expect(verified.completeness.description == item["completeness"]?.stringValue, "\(file)")
                #expect(verified.products.first?.productClass?.id.hex == item["productClass"]?["event"]?.stringValue)
            } else {
                let code = item["error"]?.stringValue
                #expect(throws: VerificationError.self, "\(file)") { try verifier.verify(bytes: bytes) }
                do { _ = try verifier.verify(bytes: bytes) } catch {
                    #expect(error.code.description == code, "\(file): \(error)")
                }
            }
        }
    }
}
