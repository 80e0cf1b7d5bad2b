import ArgumentParser
import CanonicalJSON
import Foundation
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceKit
import RetraceLedger
import RetraceStorage

/// `retrace append`: pre-signed statements (JSON lines) appended as one all-or-nothing batch.
struct AppendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "append",
        abstract: "Append pre-signed statements, one canonical JSON per line, from files or standard input."
    )

    @Option(help: "The ledger file (SQLite).")
    var db: String?
    @OptionGroup var remote: RemoteOptions
    @OptionGroup var freshness: FreshnessOptions
    @Argument(help: "Files of JSON lines; standard input when none is given.")
    var files: [String] = []
    @Option(
        name: .customLong("log-key"),
        help:
            "The log's private key (default: the embedded test key for test ledgers); with --server, the log's public key."
    )
    var logKey: String?
    @Option(
        name: .customLong("governance-key"),
        help: "With --server: the governance public key the receipt is checked under."
    )
    var governanceKey: String?
    @OptionGroup var output: JSONFlag

    func run() throws {
        let server = try remote.address(db: db)
        let anchors = try server.map { _ in try Remote.anchors(governance: governanceKey, log: logKey) }
        if server == nil {
            try freshness.requireServer("append")
            // A missing file is named before the input is read.
            _ = try LedgerAccess.openReadOnly(try RemoteOptions.requireDB(db))
        }
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
        if let server, let anchors {
            // Pre-signed statements cannot be signed afresh here, so a chain conflict is reported, not retried.
            let batch = statements
            let receipt = try Remote.run(remote, server: server, anchors: anchors, freshness: freshness) { ledger in
                try await ledger.append(batch)
            }
            try RecordCommand.printReceipt(receipt, json: output.json, members: 1)
            Remote.printWitnessed(json: output.json)
            return
        }
        let ledger = try LedgerAccess.openForAppend(db ?? "", logKeyFile: logKey, checking: statements)
        let result = try ledger.append(statements)
        try AppendReport.print(result, json: output.json)
    }
}
