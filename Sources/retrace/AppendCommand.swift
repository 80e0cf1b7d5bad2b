import ArgumentParser
import CanonicalJSON
import Foundation
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceLedger
import RetraceStorage

/// `retrace append`: pre-signed statements (JSON lines) appended as one all-or-nothing batch.
struct AppendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "append",
        abstract: "Append pre-signed statements, one canonical JSON per line, from files or standard input.")

    @OptionGroup var database: DatabaseOptions
    @Argument(help: "Files of JSON lines; standard input when none is given.")
    var files: [String] = []
    @Option(
        name: .customLong("log-key"), help: "The log's private key (default: the embedded test key for test ledgers).")
    var logKey: String?
    @OptionGroup var output: JSONFlag

    func run() throws {
        _ = try LedgerAccess.openReadOnly(database.db)  // a missing or foreign file is named before the input
        var statements: [SignedStatement] = []
        let sources: [(String, [UInt8])] =
            files.isEmpty
            ? [("standard input", Array(FileHandle.standardInput.readDataToEndOfFile()))]
            : try files.map { ($0, try LedgerAccess.readFile($0, what: "input")) }
        for (name, bytes) in sources {
            for (number, line) in bytes.split(separator: 0x0a, omittingEmptySubsequences: false).enumerated() {
                var line = Array(line)
                if line.last == 0x0d { line.removeLast() }
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
                do { statements.append(try SignedStatement(parsing: line)) } catch {
                    throw CLIError.usage("\(name) line \(number + 1): \(error.description); nothing was appended")
                }
            }
        }
        guard !statements.isEmpty else { throw CLIError.usage("no statements given; nothing was appended") }
        let ledger = try LedgerAccess.openForAppend(database.db, logKeyFile: logKey, checking: statements)
        let result = try ledger.append(statements)
        try AppendReport.print(result, json: output.json)
    }
}
