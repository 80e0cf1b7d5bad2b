import ArgumentParser
import CanonicalJSON
import Foundation
import MerkleLog
import RetraceCrypto
import RetraceKit
import RetraceLedger

/// `retrace checkpoint`: the latest signed tree head, as a C2SP signed note.
struct CheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Print the latest signed checkpoint (a C2SP signed note).",
        discussion: "With --server the note is printed only once it verifies under --log-key (the log's public key)."
    )

    @Option(help: "The ledger file (SQLite).")
    var db: String?
    @OptionGroup var remote: RemoteOptions
    @OptionGroup var freshness: FreshnessOptions
    @Option(name: .customLong("log-key"), help: "With --server: the log's public key the checkpoint must verify under.")
    var logKey: String?
    @OptionGroup var output: JSONFlag

    func run() throws {
        let note: String
        let checkpoint: Checkpoint
        let logVerifier: NoteVerifier
        if let server = try remote.address(db: db) {
            guard let logKey else {
                throw CLIError.usage(
                    "with --server, pass --log-key LOG.pub: a checkpoint is shown only once it verifies"
                )
            }
            logVerifier = try Remote.readVerifier(logKey, what: "log key")
            let anchors = TrustAnchors(governance: [], logKey: logVerifier, origin: nil)
            let verified = try Remote.run(remote, server: server, anchors: anchors, freshness: freshness) { ledger in
                try await ledger.checkpoint()
            }
            checkpoint = verified.checkpoint
            note = verified.note
        } else {
            try freshness.requireServer("checkpoint")
            let ledger = try LedgerAccess.openReadOnly(try RemoteOptions.requireDB(db))
            let head = try LedgerFacts.head(ledger)
            // Re-verify before printing: a checkpoint that does not open under the log key is not shown as good.
            do { checkpoint = try Checkpoint.open(head.note, verifiers: [ledger.logKey], origin: ledger.origin) } catch
            {
                throw CLIError(
                    CLIError.refused,
                    "the stored checkpoint does not verify under the log key: \(error.reason); run `retrace audit`"
                )
            }
            note = head.note
            logVerifier = ledger.logKey
        }
        if output.json {
            try Output.json(
                .object([
                    "origin": .string(checkpoint.origin), "treeSize": .integer(Int64(checkpoint.size)),
                    "root": .string(Hex.encode(checkpoint.rootHash)), "note": .string(note),
                    "logKey": .string(logVerifier.description),
                ])
            )
        } else {
            FileHandle.standardOutput.write(Data(note.utf8))
        }
    }
}
