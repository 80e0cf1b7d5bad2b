import ArgumentParser
import CanonicalJSON
import Foundation
import MerkleLog
import RetraceCrypto
import RetraceWitness

/// `retrace verify-tlog-proof FILE`: checks a C2SP tlog-proof@v1 offline — the log's signature,
/// the witnesses' cosignatures against a policy, and the entry's inclusion.
struct VerifyTlogProofCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-tlog-proof",
        abstract: "Verify a C2SP tlog-proof@v1 file offline under a witness policy (log key, quorum, inclusion)."
    )

    @Argument(help: "The .tlog-proof file.")
    var file: String
    @Option(help: "The entry's bytes (default: the proof's extra line, as retrace prove --tlog-proof writes it).")
    var entry: String?
    @Option(
        name: .customLong("log-key"),
        help: "The log public key file (default: the policy's log whose name is the origin)."
    )
    var logKey: String?
    @OptionGroup var freshness: FreshnessOptions
    @OptionGroup var output: JSONFlag

    func validate() throws {
        guard freshness.witnessPolicy != nil else {
            throw ValidationError("give --witness-policy: the proof is judged under it")
        }
    }

    func run() throws {
        let proof: TlogProof
        do { proof = try TlogProof(parsing: try LedgerAccess.readText(file, what: "tlog-proof")) } catch let error
            as WitnessError
        {
            throw CLIError.usage("\(file): \(error.reason)")
        }
        guard let bytes = try entry.map({ try LedgerAccess.readFile($0, what: "entry") }) ?? proof.extra else {
            throw CLIError.usage("\(file) has no extra line holding the entry; give the entry with --entry FILE")
        }
        let policy: WitnessPolicy
        do {
            policy = try WitnessPolicy(
                parsing: try LedgerAccess.readText(freshness.witnessPolicy ?? "", what: "witness policy")
            )
        } catch let error as WitnessError {
            throw CLIError.usage("\(freshness.witnessPolicy ?? ""): \(error.reason)")
        }
        let logKeys = try logKey.map { [try LedgerAccess.readPublicKey($0, what: "log key")] }
        let witnessed: WitnessedCheckpoint
        do {
            witnessed = try proof.verify(leafHash: MerkleHash.leafHash(bytes), policy: policy, logKeys: logKeys)
        } catch {
            throw CLIError(CLIError.refused, "NOT VERIFIED \(file): \(error.reason)")
        }
        if let key = logKeys?.first ?? policy.log(origin: witnessed.checkpoint.origin).first {
            _ = try freshness.check(note: proof.checkpoint, logKey: key)
        }
        if output.json {
            try Output.json(
                .object([
                    "verified": .bool(true), "index": .integer(Int64(proof.index)),
                    "origin": .string(witnessed.checkpoint.origin),
                    "treeSize": .integer(Int64(witnessed.checkpoint.size)),
                    "witnessed": FreshnessOptions.json(witnessed),
                ])
            )
        } else {
            Output.print("VERIFIED \(file)")
            Output.print(
                Output.fields(
                    [
                        (
                            "entry",
                            "#\(proof.index) of \(witnessed.checkpoint.origin) size \(witnessed.checkpoint.size)"
                        ),
                        ("leaf hash", Hex.encode(MerkleHash.leafHash(bytes))),
                    ],
                    indent: "  "
                )
            )
            Output.print(FreshnessOptions.line(witnessed))
        }
    }
}
