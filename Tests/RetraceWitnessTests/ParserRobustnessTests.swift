import MerkleLog
import RetraceCrypto
import RetraceWitness
import Testing

/// Every single-byte change of the known-answer files, through every parser of this module: each
/// must either refuse with its error or accept something that reads back to itself; none may trap.
@Suite("Witness parsers on every one-byte change of the vectors")
struct ParserRobustnessTests {
    static let replacements: [UInt8] = [0x00, 0x0a, 0x09, 0x20, 0x2b, 0x30, 0x41, 0xff]

    static func variants(_ text: String) -> [String] {
        let bytes = Array(text.utf8)
        var out: [String] = []
        for position in bytes.indices {
            for byte in replacements where byte != bytes[position] {
                var changed = bytes
                changed[position] = byte
                out.append(String(decoding: changed, as: UTF8.self))
            }
            out.append(String(decoding: bytes[..<position], as: UTF8.self))  // truncated
        }
        return out
    }

    @Test("tlog-proof files: refused, or read back byte for byte")
    func tlogProofs() throws {
        let policy = try WitnessPolicy(parsing: VectorFile.text("policy.txt"))
        let leaf = MerkleHash.leafHash(Array(VectorFile.text("entry.bin").utf8))
        let original = try TlogProof(parsing: VectorFile.text("proof.tlog-proof"))
        let signed = try SignedNote(parsing: original.checkpoint)
        for text in Self.variants(VectorFile.text("proof.tlog-proof")) {
            guard let proof = try? TlogProof(parsing: text) else { continue }
            #expect(try TlogProof(parsing: proof.serialized) == proof)
            // Only a change outside what is signed or hashed (the unauthenticated extra line, or a
            // signature line of no policy key) may still verify with the quorum.
            if (try? proof.verify(leafHash: leaf, policy: policy))?.quorumMet == true {
                #expect(proof.index == original.index && proof.proof == original.proof)
                #expect(try SignedNote(parsing: proof.checkpoint).text == signed.text)
            }
        }
    }

    @Test("policies and add-checkpoint bodies: refused with their code, or parsed")
    func policiesAndRequests() throws {
        for text in Self.variants(VectorFile.text("policy.txt")) {
            do { _ = try WitnessPolicy(parsing: text) } catch { #expect(error.code == .malformedPolicy) }
        }
        let request = AddCheckpointRequest(
            oldSize: 7,
            proof: [SHA256.hash([1]), SHA256.hash([2])],
            checkpoint: VectorFile.text("checkpoint.txt")
        )
        for text in Self.variants(request.body) {
            do {
                let parsed = try AddCheckpointRequest(parsing: text)
                #expect(try AddCheckpointRequest(parsing: parsed.body) == parsed)
            } catch { #expect(error.code == .malformedRequest) }
        }
    }
}
