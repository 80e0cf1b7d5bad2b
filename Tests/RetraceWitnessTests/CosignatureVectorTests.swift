import Foundation
import MerkleLog
import RetraceCrypto
import RetraceWitness
import Testing

/// Known answers from an independent implementation of the C2SP texts (Vectors/README.md).
@Suite("C2SP cosignatures, policy and tlog-proof: known answers")
struct CosignatureVectorTests {
    let policy: WitnessPolicy
    let checkpoint = VectorFile.text("checkpoint.txt")

    init() throws { policy = try WitnessPolicy(parsing: VectorFile.text("policy.txt")) }

    @Test("the policy parses: one log, three witnesses, quorum 2 of 3")
    func policyParses() throws {
        #expect(policy.logs.count == 1)
        #expect(policy.logs[0].key.name == "example.com/retrace-vectors")
        #expect(policy.witnesses.map(\.name) == ["W1", "W2", "W3"])
        #expect(policy.groups == [WitnessPolicy.Group(name: "majority", threshold: 2, members: ["W1", "W2", "W3"])])
        #expect(policy.quorum == "majority")
        #expect(policy.quorumDescription == "2 of 3 (majority)")
    }

    @Test("cosigner vkeys and private keys round-trip and match each other")
    func keys() throws {
        for n in 1...3 {
            let verifier = try CosignerVerifier(parsing: VectorFile.line("witness\(n).vkey"))
            #expect(verifier.description == VectorFile.line("witness\(n).vkey"))
            let signer = try CosignerSigner(parsing: VectorFile.line("witness\(n).skey"))
            #expect(signer.verifier == verifier)
            #expect(signer.privateKeyText == VectorFile.line("witness\(n).skey"))
        }
        // A log key (type 0x01) is not a cosigner key, and says so.
        #expect(throws: WitnessError(.invalidKey, "")) { try CosignerVerifier(parsing: VectorFile.line("log.vkey")) }
    }

    @Test("the checkpoint verifies: log signature, witness1 and witness3 cosigned, quorum met")
    func checkpointVerifies() throws {
        let witnessed = try WitnessedCheckpoint(note: checkpoint, policy: policy)
        #expect(witnessed.checkpoint.origin == "example.com/retrace-vectors")
        #expect(witnessed.checkpoint.size == 20)
        #expect(witnessed.witnessings.map(\.witness) == ["W1", "W3"])
        #expect(witnessed.quorumMet)
        #expect(witnessed.witnessedAt != nil)
        #expect(witnessed.summary.hasSuffix("by 2 of 3"))
    }

    @Test("a v1 reader that knows only the log key reads the cosigned checkpoint unchanged")
    func logOnlyReaderTolerates() throws {
        let opened = try Checkpoint.open(
            checkpoint,
            verifiers: [try NoteVerifier(parsing: VectorFile.line("log.vkey"))],
            origin: nil
        )
        #expect(opened.size == 20)
    }

    @Test("the order of signature lines does not matter")
    func orderIndependent() throws {
        let lines = checkpoint.split(separator: "\n", omittingEmptySubsequences: false)
        let body = lines.prefix { !$0.isEmpty }.joined(separator: "\n") + "\n\n"
        let signatures = lines.filter { $0.hasPrefix("\u{2014}") }
        let reversed = body + signatures.reversed().joined(separator: "\n") + "\n"
        let witnessed = try WitnessedCheckpoint(note: reversed, policy: policy)
        #expect(witnessed.witnessings.map(\.witness) == ["W1", "W3"])
        #expect(witnessed.quorumMet)
    }

    @Test("signature lines by unknown keys are ignored")
    func unknownLinesIgnored() throws {
        let stranger = try CosignerSigner.generate(name: "stranger.example")
        let note = try SignedNote(parsing: checkpoint)
        let extra = try stranger.cosign(checkpointText: note.text, time: 1_800_000_000)
        let witnessed = try WitnessedCheckpoint(note: checkpoint + extra.line, policy: policy)
        #expect(witnessed.witnessings.map(\.witness) == ["W1", "W3"])
    }

    @Test("one cosignature alone is not a quorum of 2 of 3")
    func oneIsNotQuorum() throws {
        let withoutW3 = checkpoint.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("\u{2014} witness3") }.joined(separator: "\n")
        let witnessed = try WitnessedCheckpoint(note: withoutW3, policy: policy)
        #expect(!witnessed.quorumMet)
        #expect(throws: WitnessError(.quorumNotMet, "")) { try witnessed.requireQuorum() }
    }

    /// Every byte of every signature value and of the body, changed in turn, must be refused.
    @Test("a changed byte of a signature or of the checkpoint body is refused")
    func tamperRefused() throws {
        let bytes = Array(checkpoint.utf8)
        let note = try SignedNote(parsing: checkpoint)
        var refused = 0
        var tried = 0
        // Flip each base64 character of each signature value, and each character of size and root.
        let text = checkpoint
        var positions: [Int] = []
        var offset = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let lineBytes = Array(line.utf8)
            if line.hasPrefix("\u{2014}"), let space = lineBytes.lastIndex(of: 0x20) {
                // Skip the last 2 characters, whose low bits may be base64 padding bits (non-canonical, refused anyway).
                positions += ((space + 1)..<(lineBytes.count - 2)).map { offset + $0 }
            } else if offset < note.text.utf8.count {
                positions += (0..<lineBytes.count).map { offset + $0 }
            }
            offset += lineBytes.count + 1
        }
        for position in positions {
            var changed = bytes
            changed[position] = changed[position] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
            tried += 1
            guard
                let witnessed = try? WitnessedCheckpoint(note: String(decoding: changed, as: UTF8.self), policy: policy)
            else {
                refused += 1
                continue
            }
            // A changed key id makes the line unknown (ignored): the quorum is then lost.
            if !witnessed.quorumMet { refused += 1 }
        }
        #expect(tried > 200)
        #expect(refused == tried)
    }

    @Test("the tlog-proof proves entry.bin at index 7 of the cosigned checkpoint")
    func tlogProof() throws {
        let proof = try TlogProof(parsing: VectorFile.text("proof.tlog-proof"))
        #expect(proof.index == 7)
        #expect(proof.extra == Array("demo".utf8))
        #expect(proof.serialized == VectorFile.text("proof.tlog-proof"))
        let witnessed = try proof.verify(
            leafHash: MerkleHash.leafHash(Array(VectorFile.text("entry.bin").utf8)),
            policy: policy
        )
        #expect(witnessed.quorumMet)
        #expect(throws: WitnessError(.proofInvalid, "")) {
            try proof.verify(leafHash: MerkleHash.leafHash(Array("entry 8\n".utf8)), policy: policy)
        }
        var hashes = proof.proof
        hashes[2][0] ^= 1
        let tampered = TlogProof(extra: proof.extra, index: proof.index, proof: hashes, checkpoint: proof.checkpoint)
        #expect(throws: WitnessError(.proofInvalid, "")) {
            try tampered.verify(leafHash: MerkleHash.leafHash(Array(VectorFile.text("entry.bin").utf8)), policy: policy)
        }
    }

    @Test("a cosignature made here verifies under the vector keys' rules")
    func signHere() throws {
        let signer = try CosignerSigner(parsing: VectorFile.line("witness2.skey"))
        let note = try SignedNote(parsing: checkpoint)
        let cosignature = try signer.cosign(checkpointText: note.text, time: 1_790_000_000)
        let witnessed = try WitnessedCheckpoint(note: checkpoint + cosignature.line, policy: policy)
        #expect(witnessed.witnessings.map(\.witness) == ["W1", "W2", "W3"])
        #expect(witnessed.witnessings.first { $0.witness == "W2" }?.time == 1_790_000_000)
    }
}

/// spec/vectors/witness/cosigned.json: variants of the known-answer checkpoint, each with the
/// answer an implementation must give.
@Suite("Cosigned checkpoint vectors (spec/vectors/witness/cosigned.json)")
struct CosignedVectorTests {
    struct Vector: Decodable, Sendable, CustomTestStringConvertible {
        let name: String
        let note: String
        let valid: Bool
        let witnesses: [String]?
        let quorum: Bool?
        let error: String?
        var testDescription: String { name }
    }

    static let vectors: [Vector] = {
        struct File: Decodable { let vectors: [Vector] }
        return (try? JSONDecoder().decode(File.self, from: Data(VectorFile.text("cosigned.json").utf8)).vectors) ?? []
    }()

    @Test("the vector file loads") func loads() { #expect(Self.vectors.count == 11) }

    @Test("each variant gives its expected answer", arguments: vectors)
    func answer(vector: Vector) throws {
        let policy = try WitnessPolicy(parsing: VectorFile.text("policy.txt"))
        do {
            let witnessed = try WitnessedCheckpoint(note: vector.note, policy: policy)
            #expect(vector.valid, "accepted, expected \(vector.error ?? "")")
            #expect(witnessed.witnessings.map(\.witness) == vector.witnesses)
            #expect(witnessed.quorumMet == vector.quorum)
        } catch {
            #expect(!vector.valid, "refused: \(error)")
            #expect(error.code.description == vector.error)
        }
    }
}
