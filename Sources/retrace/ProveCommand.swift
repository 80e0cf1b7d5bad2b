import ArgumentParser
import CanonicalJSON
import Foundation
import MerkleLog
import RetraceCrypto
import RetraceEvents
import RetraceLedger
import RetraceStorage
import RetraceWitness

/// `retrace prove`: an inclusion proof for an entry or a consistency proof between two sizes.
struct ProveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prove", abstract: "Print an inclusion proof (--index or --event) or a consistency proof (--from)."
    )

    @OptionGroup var database: DatabaseOptions
    @Option(help: "The log index of the entry to prove.")
    var index: UInt64?
    @Option(help: "The event id (hex) of the entry to prove.")
    var event: String?
    @Option(help: "The older tree size of a consistency proof.")
    var from: UInt64?
    @Option(help: "The newer tree size (default: the latest checkpoint's size).")
    var to: UInt64?
    @Option(
        name: .customLong("tlog-proof"),
        help: "Also write the entry's proof as a C2SP tlog-proof@v1 file (with the cosigned checkpoint) to this path.")
    var tlogProof: String?
    @OptionGroup var output: JSONFlag

    func validate() throws {
        let modes = [index != nil, event != nil, from != nil].filter { $0 }.count
        guard modes == 1 else { throw ValidationError("give exactly one of --index, --event or --from") }
        guard tlogProof == nil || from == nil else { throw ValidationError("--tlog-proof proves one entry: use --index or --event") }
    }

    /// The checkpoint a tlog-proof leads to: the newest cosigned one (stored beside the ledger by
    /// `retrace serve --witness-policy`) unless `--to` names another size, else the ledger's own.
    func proofCheckpoint(_ ledger: Ledger, head: UInt64) throws -> (size: UInt64, note: String) {
        if let cosigned = try? String(contentsOfFile: database.db + ".witnessed", encoding: .utf8),
            let checkpoint = try? Checkpoint.open(cosigned, verifiers: [ledger.logKey], origin: ledger.origin),
            checkpoint.size <= head, to == nil || to == checkpoint.size
        {
            return (checkpoint.size, cosigned)
        }
        let size = to ?? head
        guard let stored = try ledger.store.read({ try $0.checkpoint(size: size) }) else {
            throw CLIError.usage("no signed checkpoint of size \(size); a tlog-proof needs one (omit --to for the newest)")
        }
        return (size, stored.note)
    }

    func run() throws {
        let ledger = try LedgerAccess.openReadOnly(database.db)
        let head = try LedgerFacts.head(ledger)
        let chosen = tlogProof == nil ? nil : try proofCheckpoint(ledger, head: head.size)
        let size = chosen?.size ?? to ?? head.size
        guard size <= head.size, size > 0 else {
            throw CLIError.usage("--to \(size) is not a checkpointed tree size (1…\(head.size))")
        }
        if let from {
            guard from >= 1, from <= size else { throw CLIError.usage("--from must be 1…\(size), found \(from)") }
            let (proof, root1, root2) = try ledger.store.read { reader in
                (
                    try MerkleTree.consistencyProof(from: from, to: size, reader: reader),
                    try MerkleTree.rootHash(size: from, reader: reader),
                    try MerkleTree.rootHash(size: size, reader: reader)
                )
            }
            try MerkleProof.verifyConsistency(size1: from, size2: size, proof: proof, root1: root1, root2: root2)
            if output.json {
                try Output.json(
                    .object([
                        "kind": .string("consistency"), "from": .integer(Int64(from)), "to": .integer(Int64(size)),
                        "fromRoot": .string(Hex.encode(root1)), "toRoot": .string(Hex.encode(root2)),
                        "proof": .array(proof.map { .string(Hex.encode($0)) }),
                    ]))
            } else {
                Output.print("Consistency proof from size \(from) to \(size) (verified)")
                Output.print(
                    Output.fields(
                        [("root \(from)", Hex.encode(root1)), ("root \(size)", Hex.encode(root2))], indent: "  "))
                Output.print(Output.table(proof.enumerated().map { ["  [\($0.offset)]", Hex.encode($0.element)] }))
            }
            return
        }
        let leafIndex: UInt64
        if let index {
            leafIndex = index
        } else {
            let id = try LedgerAccess.parseDigest(event ?? "", option: "--event")
            guard let found = try ledger.store.read({ try $0.entryIndex(eventID: id.bytes) }) else {
                throw CLIError(CLIError.refused, "event \(id.hex) is not in this ledger; check the event id")
            }
            leafIndex = found
        }
        guard leafIndex < size else {
            throw CLIError.usage(
                "index \(leafIndex) is not below the tree size \(size); choose an index from 0 to \(size - 1)")
        }
        let (entry, proof, root) = try ledger.store.read { reader in
            (
                try reader.entry(at: leafIndex),
                try MerkleTree.inclusionProof(leafIndex: leafIndex, treeSize: size, reader: reader),
                try MerkleTree.rootHash(size: size, reader: reader)
            )
        }
        guard let entry else {
            throw CLIError.usage("no entry at index \(leafIndex); the ledger may be damaged: run `retrace audit`")
        }
        try MerkleProof.verifyInclusion(
            leafHash: MerkleHash.leafHash(entry.bytes), leafIndex: leafIndex, treeSize: size, proof: proof,
            rootHash: root)
        if let tlogProof, let chosen {
            // The extra line carries the entry itself, so the file is self-contained; a verifier
            // trusts it only because its hash is the leaf the proof binds to the signed root.
            let file = TlogProof(extra: entry.bytes, index: leafIndex, proof: proof, checkpoint: chosen.note)
            try LedgerAccess.writeNew(tlogProof, Array(file.serialized.utf8), force: true)
        }
        if output.json {
            try Output.json(
                .object([
                    "kind": .string("inclusion"), "index": .integer(Int64(leafIndex)),
                    "treeSize": .integer(Int64(size)),
                    "event": .string(Hex.encode(entry.eventID)), "leafHash": .string(Hex.encode(entry.leafHash)),
                    "root": .string(Hex.encode(root)), "proof": .array(proof.map { .string(Hex.encode($0)) }),
                ]))
        } else {
            Output.print("Inclusion proof for entry #\(leafIndex) in tree size \(size) (verified)")
            Output.print(
                Output.fields(
                    [
                        ("event", Hex.encode(entry.eventID)), ("leaf hash", Hex.encode(entry.leafHash)),
                        ("root", Hex.encode(root)),
                    ], indent: "  "))
            Output.print(Output.table(proof.enumerated().map { ["  [\($0.offset)]", Hex.encode($0.element)] }))
        }
    }
}
