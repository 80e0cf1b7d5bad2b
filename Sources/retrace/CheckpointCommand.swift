import ArgumentParser
import CanonicalJSON
import Foundation
import MerkleLog
import RetraceCrypto
import RetraceEvents
import RetraceLedger
import RetraceStorage

/// `retrace checkpoint`: the latest signed tree head, as a C2SP signed note.
struct CheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint", abstract: "Print the latest signed checkpoint (a C2SP signed note).")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: JSONFlag

    func run() throws {
        let ledger = try LedgerAccess.openReadOnly(database.db)
        let head = try LedgerFacts.head(ledger)
        // Re-verify before printing: a checkpoint that does not open under the log key is not shown as good.
        let checkpoint: Checkpoint
        do { checkpoint = try Checkpoint.open(head.note, verifiers: [ledger.logKey], origin: ledger.origin) } catch {
            throw CLIError(
                CLIError.refused,
                "the stored checkpoint does not verify under the log key: \(error.reason); run `retrace audit`")
        }
        if output.json {
            try Output.json(
                .object([
                    "origin": .string(checkpoint.origin), "treeSize": .integer(Int64(checkpoint.size)),
                    "root": .string(Hex.encode(checkpoint.rootHash)), "note": .string(head.note),
                    "logKey": .string(ledger.logKey.description),
                ]))
        } else {
            FileHandle.standardOutput.write(Data(head.note.utf8))
        }
    }
}
