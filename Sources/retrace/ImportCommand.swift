import ArgumentParser
import CanonicalJSON
import Foundation
import RetraceAudit
import RetraceCrypto
import RetraceEvents
import RetraceLedger
import RetraceStorage

/// `retrace import FILE --db NEW`: rebuilds a ledger from an export by re-appending its statements.
///
/// The export is first audited under trust anchors the user gives (never the ones its own header
/// names, which whoever made the file chose): an export re-rooted under other keys, or whose
/// checkpoints do not match its entries, is refused before anything is written. Every statement is
/// then re-checked against the rules on the way in. The new ledger has its own receive times and
/// checkpoints (signed by `--log-key`), so its roots differ from the original's.
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Build a new ledger from an export file, re-checking every statement."
    )

    @Argument(help: "The export file (from `retrace export`).")
    var file: String
    @OptionGroup var database: DatabaseOptions
    @Option(
        name: .customLong("log-key"),
        help: "The new ledger's log private key (default: the test key if the export uses it)."
    )
    var logKey: String?
    @Option(name: .customLong("trust-governance"), help: "The source's governance public key file you trust.")
    var trustGovernance: String
    @Option(name: .customLong("trust-log"), help: "The source's log public key file you trust.")
    var trustLog: String
    @Option(help: "The origin the source's log key is trusted for.")
    var origin: String
    @OptionGroup var output: JSONFlag

    func run() throws {
        let path = database.db
        if FileManager.default.fileExists(atPath: path) {
            throw CLIError.usage("\(path) already exists; import builds a new ledger, choose a new --db path")
        }
        let trustedGovernance = try LedgerAccess.readPublicKey(trustGovernance, what: "governance key")
        let trustedLog = try LedgerAccess.readPublicKey(trustLog, what: "log key")
        try verifySource(governance: trustedGovernance, log: trustedLog)
        let bytes = try LedgerAccess.readFile(file, what: "export")
        let lines = bytes.split(separator: 0x0a).map(Array.init)
        guard let headerLine = lines.first else { throw CLIError.usage("\(file) is empty; not an export") }
        let header: JSONObject
        do {
            guard case .object(let object) = try CanonicalJSON.decode(headerLine) else { throw CLIError.usage("") }
            header = object
        } catch {
            throw CLIError.usage("\(file) line 1 is not an export header; use a file made by `retrace export`")
        }
        guard header["format"]?.stringValue == LedgerExport.format else {
            throw CLIError.usage("\(file) does not start with a \(LedgerExport.format) header")
        }
        // The audit above bound the header to the trusted anchors; the new ledger records those.
        let governance = [trustedGovernance]
        var statements: [SignedStatement] = []
        for (number, line) in lines.enumerated().dropFirst() {
            do {
                guard case .object(let object) = try CanonicalJSON.decode(line) else {
                    throw CLIError.usage("not an object")
                }
                if object["checkpoint"] != nil { continue }
                guard let entryValue = object["entry"] else {
                    throw CLIError.usage("neither an entry nor a checkpoint")
                }
                let members = try (object["members"]?.arrayValue ?? []).map {
                    try BatchMember(json: $0, path: "members")
                }
                let entry = try LogEntry(parsing: CanonicalJSON.encode(entryValue), members: members)
                guard object["index"]?.integerValue == Int64(statements.count) else {
                    throw CLIError.usage("entry index \(object["index"].map { "\($0)" } ?? "none") is out of order")
                }
                statements.append(entry.signed)
            } catch {
                throw CLIError.usage("\(file) line \(number + 1): \(CLIError.from(error).message)")
            }
        }
        guard let first = statements.first, first.statement.type == .roster else {
            throw CLIError.usage("\(file) does not begin with a roster entry; not a complete export")
        }
        let signer: NoteSigner
        if let logKey {
            signer = try LedgerAccess.readPrivateKey(logKey, what: "log key")
        } else {
            let test = try RetraceSimulationKeys.testLogSigner()
            guard test.verifier.description == trustedLog.description else {
                throw CLIError.usage(
                    "importing needs a log key to sign the new ledger's checkpoints; pass --log-key FILE"
                )
            }
            signer = test
        }
        let progress = Progress(total: statements.count, label: "import")
        // Only what this command created is removed on failure: never a ledger that was already there.
        let store = try StoreLocation.create(path)
        do {
            let ledger = try Ledger.create(
                store: store,
                origin: origin,
                logSigner: signer,
                governance: governance,
                roster: first
            )
            var position = 1
            while position < statements.count {
                let end = min(statements.count, position + 1000)
                do { try ledger.append(Array(statements[position..<end])) } catch {
                    if let index = error.statementIndex {
                        throw CLIError(
                            CLIError.fromLedger(error).exitCode,
                            "export entry #\(position + index): \(CLIError.fromLedger(error).message)"
                        )
                    }
                    throw error
                }
                position = end
                progress.update(position)
            }
            progress.finish()
            let head = try LedgerFacts.head(ledger)
            if output.json {
                try Output.json(
                    .object([
                        "db": .string(path), "origin": .string(origin), "imported": .integer(Int64(statements.count)),
                        "treeSize": .integer(Int64(head.size)), "root": .string(Hex.encode(head.root)),
                    ])
                )
            } else {
                Output.print("Imported \(statements.count) entries from \(file) into \(path); tree size \(head.size)")
            }
        } catch {
            progress.finish()
            LedgerAccess.removeCreatedLedger(path)
            throw error
        }
    }

    /// Audits the export under the user's anchors before anything is written (audit.md).
    private func verifySource(governance: NoteVerifier, log: NoteVerifier) throws {
        let report: AuditReport
        do {
            report = try Auditor(trustRoots: [governance], logKey: log, origin: origin).audit(exportAt: file)
        } catch let error as AuditError {
            throw CLIError(CLIError.cannotCheck, "\(file) cannot be imported: \(error.reason)")
        }
        if let failure = report.failures.first {
            throw CLIError(
                CLIError.refused,
                "\(file) does not verify under the trusted keys and origin \(origin), nothing was written: \(failure)"
            )
        }
    }
}
