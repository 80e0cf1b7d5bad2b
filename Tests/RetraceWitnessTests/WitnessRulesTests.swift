import MerkleLog
import RetraceCrypto
import RetraceWitness
import Testing

/// Every answer of C2SP tlog-witness `add-checkpoint`, driven through the pure checks with a real
/// tree and real signatures (the HTTP layer is exercised over loopback in RetraceWitnessNetworkTests).
@Suite("tlog-witness add-checkpoint checks")
struct WitnessRulesTests {
    let log: NoteSigner
    var tree = InMemoryMerkleStore()

    init() throws {
        log = try NoteSigner(parsing: VectorFile.line("log.skey"))
        for n in 0..<20 { tree.append(entry: Array("entry \(n)\n".utf8)) }
    }

    func note(_ size: UInt64, root: [UInt8]? = nil, signer: NoteSigner? = nil) throws -> String {
        try Checkpoint(origin: log.name, size: size, rootHash: try root ?? tree.rootHash(size: size))
            .sign(with: signer ?? log).serialized
    }

    func check(_ old: UInt64, _ proof: [[UInt8]], _ note: String, held: WitnessRules.Head?) -> Int {
        do {
            _ = try WitnessRules.check(
                AddCheckpointRequest(oldSize: old, proof: proof, checkpoint: note),
                logs: [log.name: [log.verifier]],
                stored: { _ in held }
            )
            return 200
        } catch { return error.status }
    }

    @Test("known answers: 200, 400, 403, 404, 409 (with the held size) and every 422 case")
    func answers() throws {
        let held = WitnessRules.Head(size: 7, root: try tree.rootHash(size: 7))
        let proof = try tree.consistencyProof(from: 7, to: 20)
        // Consistent growth, and a first checkpoint (old 0, no proof).
        #expect(check(7, proof, try note(20), held: held) == 200)
        #expect(check(0, [], try note(20), held: nil) == 200)
        // The same head again is consistent (idempotent resubmission).
        #expect(check(7, [], try note(7), held: held) == 200)
        // 400: old above the checkpoint's size.
        #expect(check(21, [], try note(20), held: held) == 400)
        // 403: signed by another key under the log's name; no signature at all is not a note.
        #expect(check(7, proof, try note(20, signer: try NoteSigner.generate(name: log.name)), held: held) == 403)
        // 404: a log the witness does not know.
        let stranger = try NoteSigner.generate(name: "elsewhere.example/log")
        let foreign = try Checkpoint(origin: stranger.name, size: 1, rootHash: SHA256.hash([1])).sign(with: stranger)
        #expect(check(0, [], foreign.serialized, held: nil) == 404)
        // 409: the old size is not the held one (a rollback, or a log that lost track).
        #expect(check(3, try tree.consistencyProof(from: 3, to: 20), try note(20), held: held) == 409)
        let five = try note(5)
        do {
            _ = try WitnessRules.check(
                AddCheckpointRequest(oldSize: 0, proof: [], checkpoint: five),
                logs: [log.name: [log.verifier]],
                stored: { _ in held }
            )
            Issue.record("accepted")
        } catch { #expect(error.status == 409 && error.storedSize == 7) }
        // 422: a wrong proof, a proof with old 0, a split view at the held size, a bad empty tree.
        var bad = proof
        bad[0][0] ^= 1
        #expect(check(7, bad, try note(20), held: held) == 422)
        #expect(check(0, proof, try note(20), held: nil) == 422)
        #expect(check(7, [], try note(7, root: SHA256.hash([9])), held: held) == 422)
        #expect(check(0, [], try note(0, root: SHA256.hash([9])), held: nil) == 422)
        #expect(check(0, [], try note(0, root: MerkleHash.emptyRoot), held: nil) == 200)
    }

    @Test("malformed request bodies are refused as such")
    func malformed() throws {
        let checkpoint = try note(20)
        for body in [
            "", "old 7\n", "old 07\n\n" + checkpoint, "old -1\n\n" + checkpoint, "new 7\n\n" + checkpoint,
            "old 7\nnot-base64!\n\n" + checkpoint, "old 7\n" + Base64.encode([1, 2, 3]) + "\n\n" + checkpoint,
            "old 7\n" + String(repeating: Base64.encode(SHA256.hash([1])) + "\n", count: 64) + "\n" + checkpoint,
        ] {
            #expect(throws: WitnessError(.malformedRequest, "")) { try AddCheckpointRequest(parsing: body) }
        }
        let request = AddCheckpointRequest(
            oldSize: 7,
            proof: try tree.consistencyProof(from: 7, to: 20),
            checkpoint: checkpoint
        )
        #expect(try AddCheckpointRequest(parsing: request.body) == request)
    }
}
