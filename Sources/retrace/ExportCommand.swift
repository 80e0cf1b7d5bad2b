import ArgumentParser
import CanonicalJSON
import Foundation
import RetraceCrypto
import RetraceEvents
import RetraceLedger
import RetraceStorage

/// `retrace export --out FILE`: the whole ledger as self-describing JSON lines (spec/format.md §7).
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Write the whole ledger to a JSON-lines export file.")

    @OptionGroup var database: DatabaseOptions
    @Option(help: "The export file to write (must not exist unless --force).")
    var out: String
    @Flag(help: "Overwrite an existing export file.")
    var force = false
    @OptionGroup var output: JSONFlag

    func run() throws {
        let ledger = try LedgerAccess.openReadOnly(database.db)
        if FileManager.default.fileExists(atPath: out), !force {
            throw CLIError.usage("\(out) already exists; choose another path or pass --force")
        }
        let temporary = out + ".partial"
        try LedgerAccess.writeNew(temporary, [], force: true)
        guard let handle = FileHandle(forWritingAtPath: temporary) else {
            throw CLIError.usage("cannot write \(out); check the directory is writable")
        }
        var lines = 0
        var bytes = 0
        do {
            try ledger.export { chunk in
                handle.write(Data(chunk))
                lines += 1
                bytes += chunk.count
            }
            try handle.close()
            if FileManager.default.fileExists(atPath: out) { try FileManager.default.removeItem(atPath: out) }
            try FileManager.default.moveItem(atPath: temporary, toPath: out)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
        let head = try LedgerFacts.head(ledger)
        if output.json {
            try Output.json(
                .object([
                    "out": .string(out), "lines": .integer(Int64(lines)), "bytes": .integer(Int64(bytes)),
                    "treeSize": .integer(Int64(head.size)), "root": .string(Hex.encode(head.root)),
                ]))
        } else {
            Output.print("Exported \(head.size) entries (\(lines) lines, \(bytes) bytes) to \(out)")
        }
    }
}
