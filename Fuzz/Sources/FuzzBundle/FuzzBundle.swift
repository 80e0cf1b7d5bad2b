import CanonicalJSON
import FuzzSupport
import MerkleLog
import RetraceCrypto
import RetraceSimulation
import RetraceVerification

/// Fuzzes the offline proof bundle reader and the evidence verifier behind it.
///
/// Each input is read with `ProofBundle(parsing:)` and verified with `EvidenceVerifier` under the test
/// trust anchors (governance key, log key, origin `retrace.test/demo`); both must only ever throw.
/// A bundle that parses must encode back to the exact input (plus the final line feed it may omit).
///
/// A mutated bundle almost always fails at its checkpoint signature or its first inclusion proof, so
/// each parsed bundle is verified a second time re-anchored: the harness rebuilds a Merkle tree with
/// every entry of the bundle at the index it claims (other leaves are filler), replaces every
/// inclusion proof, and signs a checkpoint over it with the test log key. That takes the input past
/// the hashing into the roster chain, statement signatures, chain links, member proofs, certificate
/// coverage and the lifecycle rules. A re-anchored bundle that verifies must describe its own chains.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzDriver.bytes(data, size)
    let bundle: ProofBundle
    do {
        bundle = try ProofBundle(parsing: bytes)
    } catch {
        _ = try? Fixture.shared.verifier.verify(bytes: bytes)
        return 0
    }
    let body = bytes.last == 0x0A ? bytes : bytes + [0x0A]
    invariant((try? bundle.encoded()) == body, "a parsed bundle encodes differently")
    _ = try? Fixture.shared.verifier.verify(bundle)
    if let anchored = reanchored(bundle), let verified = try? Fixture.shared.verifier.verify(anchored) {
        invariant(
            verified.products.count == anchored.products.count,
            "a verified bundle has \(verified.products.count) products for \(anchored.products.count) chains")
        for (product, chain) in zip(verified.products, anchored.products) {
            invariant(product.events.count == chain.events.count, "a verified chain lost or gained events")
            invariant(product.product.digitalLink == chain.product, "a verified chain is about another product")
        }
    }
    return 0
}

private struct Fixture: Sendable {
    let log: NoteSigner
    let verifier: EvidenceVerifier

    static let shared: Fixture = {
        do {
            let parties = try TestParties()
            let anchors = TrustAnchors(
                governance: [parties.governance.verifier], logKey: parties.log.verifier, origin: TestParties.origin)
            return Fixture(log: parties.log, verifier: EvidenceVerifier(anchors: anchors))
        } catch {
            fatalError("the embedded test keys do not load: \(error)")
        }
    }()
}

/// Largest tree the harness rebuilds (indices beyond it are left to fail on their own).
private let maxTreeSize: UInt64 = 4_096

/// The bundle with fresh inclusion proofs in a tree holding each entry at its claimed index, under a
/// checkpoint signed by the test log key; `nil` when two entries claim one index or an index is huge.
private func reanchored(_ bundle: ProofBundle) -> ProofBundle? {
    let all = bundle.roster + bundle.products.flatMap(\.events) + (bundle.certificate.map { [$0] } ?? [])
    var leaves: [UInt64: [UInt8]] = [:]
    for item in all {
        guard item.index < maxTreeSize, let bytes = try? CanonicalJSON.encode(.object(item.entry)) else { return nil }
        let leaf = MerkleHash.leafHash(bytes)
        if let known = leaves[item.index], known != leaf { return nil }
        leaves[item.index] = leaf
    }
    let claimedSize = (try? SignedNote(parsing: bundle.checkpoint)).flatMap { try? Checkpoint(parsing: $0.text) }?.size
    let needed = (leaves.keys.max() ?? 0) + 1
    let size = min(max(claimedSize ?? needed, needed), maxTreeSize)
    let hashes = (0..<size).map { leaves[$0] ?? MerkleHash.leafHash(Array("filler \($0)".utf8)) }
    guard let tree = try? InMemoryMerkleStore(leafHashes: hashes), let root = try? tree.rootHash(size: size),
        let checkpoint = try? Checkpoint(origin: TestParties.origin, size: size, rootHash: root),
        let note = try? checkpoint.sign(with: Fixture.shared.log)
    else { return nil }
    func reproved(_ item: BundleEntry) -> BundleEntry {
        BundleEntry(
            index: item.index, entry: item.entry, proof: (try? tree.inclusionProof(leafIndex: item.index)) ?? [],
            member: item.member, memberIndex: item.memberIndex, memberProof: item.memberProof, members: item.members)
    }
    return ProofBundle(
        checkpoint: note.serialized, roster: bundle.roster.map(reproved),
        products: bundle.products.map { .init(product: $0.product, events: $0.events.map(reproved)) },
        certificate: bundle.certificate.map(reproved))
}
