import ArgumentParser
import CanonicalJSON
import Foundation
import MerkleLog
import RetraceCrypto
import RetraceEvents
import RetraceKit
import RetraceLedger
import RetraceStorage
import RetraceWitness

/// `retrace prove`: an inclusion proof for an entry or a consistency proof between two sizes.
struct ProveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prove",
        abstract: "Print an inclusion proof (--index or --event) or a consistency proof (--from)."
    )

    @Option(help: "The ledger file (SQLite).")
    var db: String?
    @OptionGroup var remote: RemoteOptions
    @OptionGroup var freshness: FreshnessOptions
    @Option(name: .customLong("log-key"), help: "With --server: the log's public key the proof must lead to.")
    var logKey: String?
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
        help: "Also write the entry's proof as a C2SP tlog-proof@v1 file (with the cosigned checkpoint) to this path."
    )
    var tlogProof: String?
    @OptionGroup var output: JSONFlag

    func validate() throws {
        let modes = [index != nil, event != nil, from != nil].filter { $0 }.count
        guard modes == 1 else { throw ValidationError("give exactly one of --index, --event or --from") }
        guard tlogProof == nil || from == nil else {
            throw ValidationError("--tlog-proof proves one entry: use --index or --event")
        }
    }

    /// The checkpoint a tlog-proof leads to: the newest cosigned one (stored beside the ledger by
    /// `retrace serve --witness-policy`) unless `--to` names another size, else the ledger's own.
    func proofCheckpoint(_ ledger: Ledger, head: UInt64) throws -> (size: UInt64, note: String) {
        if let cosigned = try? String(contentsOfFile: (db ?? "") + ".witnessed", encoding: .utf8),
            let checkpoint = try? Checkpoint.open(cosigned, verifiers: [ledger.logKey], origin: ledger.origin),
            checkpoint.size <= head, to == nil || to == checkpoint.size
        {
            return (checkpoint.size, cosigned)
        }
        let size = to ?? head
        guard let stored = try ledger.store.read({ try $0.checkpoint(size: size) }) else {
            throw CLIError.usage(
                "no signed checkpoint of size \(size); a tlog-proof needs one (omit --to for the newest)"
            )
        }
        return (size, stored.note)
    }

    func run() throws {
        if let server = try remote.address(db: db) {
            try runRemote(server)
            Remote.printWitnessed(json: output.json)
            return
        }
        try freshness.requireServer("prove")
        let ledger = try LedgerAccess.openReadOnly(try RemoteOptions.requireDB(db))
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
                    ])
                )
            } else {
                Output.print("Consistency proof from size \(from) to \(size) (verified)")
                Output.print(
                    Output.fields(
                        [("root \(from)", Hex.encode(root1)), ("root \(size)", Hex.encode(root2))],
                        indent: "  "
                    )
                )
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
                "index \(leafIndex) is not below the tree size \(size); choose an index from 0 to \(size - 1)"
            )
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
            leafHash: MerkleHash.leafHash(entry.bytes),
            leafIndex: leafIndex,
            treeSize: size,
            proof: proof,
            rootHash: root
        )
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
                ])
            )
        } else {
            Output.print("Inclusion proof for entry #\(leafIndex) in tree size \(size) (verified)")
            Output.print(
                Output.fields(
                    [
                        ("event", Hex.encode(entry.eventID)), ("leaf hash", Hex.encode(entry.leafHash)),
                        ("root", Hex.encode(root)),
                    ],
                    indent: "  "
                )
            )
            Output.print(Output.table(proof.enumerated().map { ["  [\($0.offset)]", Hex.encode($0.element)] }))
        }
    }

    /// Proofs from a server, checked here against its latest checkpoint verified under `--log-key`.
    /// An inclusion proof is checked on the entry's own bytes; a consistency proof leads from the
    /// root the server names for the older size, which is only as good as a checkpoint of that
    /// size you hold (compare it).
    private func runRemote(_ server: String) throws {
        guard let logKey else { throw CLIError.usage("with --server, pass --log-key LOG.pub: proofs are checked here") }
        guard to == nil else { throw CLIError.usage("with --server, proofs lead to the latest checkpoint; omit --to") }
        let anchors = TrustAnchors(
            governance: [],
            logKey: try Remote.readVerifier(logKey, what: "log key"),
            origin: nil
        )
        let index = self.index
        let event = try self.event.map { try LedgerAccess.parseDigest($0, option: "--event") }
        let from = self.from
        let json = output.json
        let lines = try Remote.run(remote, server: server, anchors: anchors, freshness: freshness) {
            ledger -> [String] in
            if let from {
                let (checkpoint, _) = try await ledger.checkpoint()
                let answer = try await ledger.client.consistencyProof(from: from, to: checkpoint.size)
                let proof = (answer["proof"]?.arrayValue ?? []).compactMap { $0.stringValue.flatMap { Hex.decode($0) } }
                guard let oldRoot = answer["fromRoot"]?.stringValue.flatMap({ Hex.decode($0) }) else {
                    throw ClientError(.malformedAnswer, request: "GET /v1/proofs/consistency", detail: "no fromRoot")
                }
                try MerkleProof.verifyConsistency(
                    size1: from,
                    size2: checkpoint.size,
                    proof: proof,
                    root1: oldRoot,
                    root2: checkpoint.rootHash
                )
                if json {
                    let value: JSONValue = .object([
                        "kind": .string("consistency"), "from": .integer(Int64(from)),
                        "to": .integer(Int64(checkpoint.size)), "fromRoot": .string(Hex.encode(oldRoot)),
                        "toRoot": .string(Hex.encode(checkpoint.rootHash)),
                        "proof": .array(proof.map { .string(Hex.encode($0)) }),
                    ])
                    return [String(decoding: try CanonicalJSON.encode(value), as: UTF8.self)]
                }
                return [
                    "Consistency proof from size \(from) to checkpoint \(checkpoint.size) (verified; compare root "
                        + "\(from) with a checkpoint of that size you hold)",
                    "  root \(from)  \(Hex.encode(oldRoot))",
                    "  root \(checkpoint.size)  \(Hex.encode(checkpoint.rootHash))",
                ] + proof.enumerated().map { "  [\($0.offset)]  \(Hex.encode($0.element))" }
            }
            var leaf = index ?? 0
            if let event {
                let answer = try await ledger.client.json("/v1/proofs/inclusion?event=\(event.hex)")
                guard let found = answer["index"]?.integerValue, found >= 0 else {
                    throw ClientError(.malformedAnswer, request: "GET /v1/proofs/inclusion", detail: "no index")
                }
                leaf = UInt64(found)
            }
            let (checkpoint, entry, proof) = try await ledger.provedEntry(index: leaf)
            if let event, entry.statement.id != event {
                throw VerificationError(.inclusionFailed, "entry \(leaf) is not event \(event.short)")
            }
            if json {
                let value: JSONValue = .object([
                    "kind": .string("inclusion"), "index": .integer(Int64(leaf)),
                    "treeSize": .integer(Int64(checkpoint.size)), "event": .string(entry.statement.id.hex),
                    "leafHash": .string(Hex.encode(entry.leafHash)), "root": .string(Hex.encode(checkpoint.rootHash)),
                    "proof": .array(proof.map { .string(Hex.encode($0)) }),
                ])
                return [String(decoding: try CanonicalJSON.encode(value), as: UTF8.self)]
            }
            return [
                "Inclusion proof for entry #\(leaf) in checkpoint \(checkpoint.size) (verified under the log key)",
                "  event      \(entry.statement.id.hex)", "  leaf hash  \(Hex.encode(entry.leafHash))",
                "  root       \(Hex.encode(checkpoint.rootHash))",
            ] + proof.enumerated().map { "  [\($0.offset)]  \(Hex.encode($0.element))" }
        }
        for line in lines { Output.print(line) }
    }
}
