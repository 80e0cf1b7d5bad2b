import ArgumentParser
import CanonicalJSON
import Foundation
import RetraceAudit
import RetraceCrypto
import RetraceLedger
import RetraceStorage

/// `retrace audit`: verify a whole ledger (or only what came after a trusted checkpoint), or an export.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract:
            "Audit a ledger or an export: signatures, chains, roster, rules, checkpoints (exit 1 on any failure).",
        discussion: """
            Without --governance-key/--log-key/--origin the keys recorded in the ledger or export are trusted: that \
            checks the file against itself only (a note on standard error says so). Give the key files and the \
            origin you hold to audit independently.
            """)

    @Option(help: "The ledger file (SQLite).")
    var db: String?
    @Option(help: "Audit this export file instead of a database.")
    var export: String?
    @Option(help: "A checkpoint note file trusted earlier: check consistency with it and only the newer entries.")
    var since: String?
    @Flag(help: "Keep going after the first failure and list them all.")
    var all = false
    @Option(name: .customLong("governance-key"), help: "Trusted governance public key file.")
    var governanceKey: String?
    @Option(name: .customLong("log-key"), help: "Trusted log public key file.")
    var logKey: String?
    @Option(help: "The origin the log key is trusted for (required with --log-key).")
    var origin: String?
    @Option(help: "Worker threads for signature checks (1 or 2).")
    var threads: Int = 2
    @OptionGroup var output: JSONFlag

    func validate() throws {
        guard (db == nil) != (export == nil) else { throw ValidationError("give exactly one of --db or --export") }
        guard since == nil || db != nil else { throw ValidationError("--since works with --db") }
        guard (governanceKey == nil) == (logKey == nil) else {
            throw ValidationError("give both --governance-key and --log-key, or neither")
        }
        // A log key is trusted for one origin (audit.md §1): without it, checkpoints the same key
        // signed for another log would pass.
        guard (logKey == nil) == (origin == nil) else {
            throw ValidationError("give --origin ORIGIN with --log-key: a log key is trusted for one origin")
        }
    }

    func run() throws {
        let progress = Progress(total: 1, label: "audit")
        let callback: @Sendable (UInt64, UInt64) -> Void = { done, total in
            progress.update(Int(done), total: Int(total))
        }
        let report: AuditReport
        var governance: [NoteVerifier]
        var log: NoteVerifier
        var origin = self.origin
        if let governanceKey, let logKey {
            governance = [try LedgerAccess.readPublicKey(governanceKey, what: "governance key")]
            log = try LedgerAccess.readPublicKey(logKey, what: "log key")
        } else {
            // The recorded origin is not passed as trusted: the auditor compares it with the origin the
            // checkpoints are signed for and names a mismatch as a header failure (A19).
            (governance, log) = try recordedKeys()
            origin = nil
            Output.error(
                "note: trusting the keys and origin recorded in the file itself: this checks it against itself, "
                    + "not against keys you hold (give --governance-key, --log-key and --origin)")
        }
        let trustedNote = try since.map { try LedgerAccess.readText($0, what: "checkpoint") }
        let auditor = Auditor(
            trustRoots: governance, logKey: log, origin: origin, threads: threads, keepGoing: all, progress: callback)
        do {
            if let db {
                let store = try SQLiteLedgerStore.open(path: db, readOnly: true)
                if let trustedNote {
                    report = try auditor.audit(store: store, since: trustedNote)
                } else {
                    report = try auditor.audit(store: store)
                }
            } else {
                report = try auditor.audit(exportAt: export ?? "")
            }
        } catch let error as AuditError {
            progress.finish()
            throw CLIError(CLIError.cannotCheck, "audit could not run: \(error.reason); check the file and the keys")
        } catch {
            progress.finish()
            throw error
        }
        progress.finish()
        if output.json {
            try Output.json(Self.json(report))
        } else {
            Output.print(Self.text(report, source: db ?? export ?? ""))
        }
        if !report.passed { throw ExitCode(CLIError.refused) }
    }

    private func recordedKeys() throws -> ([NoteVerifier], NoteVerifier) {
        if let db {
            let ledger = try LedgerAccess.openReadOnly(db)
            return (ledger.trustRoots, ledger.logKey)
        }
        let path = export ?? ""
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CLIError.usage("export \(path) cannot be read; check the path")
        }
        defer { try? handle.close() }
        var header: [UInt8] = []
        while let chunk = try handle.read(upToCount: 4096), !chunk.isEmpty {
            if let newline = chunk.firstIndex(of: 0x0a) {
                header += chunk[chunk.startIndex..<newline]
                break
            }
            header += chunk
            if header.count > 1 << 20 { break }
        }
        guard case .object(let object)? = try? CanonicalJSON.decode(header),
            let logText = object["logKey"]?.stringValue, let governanceList = object["governance"]?.arrayValue
        else {
            throw CLIError.usage("\(path) is not a Retrace export (no header line); use a file from `retrace export`")
        }
        do {
            let governance = try governanceList.compactMap(\.stringValue).map { try NoteVerifier(parsing: $0) }
            return (governance, try NoteVerifier(parsing: logText))
        } catch {
            throw CLIError.usage("\(path): the header's keys do not parse: \(error)")
        }
    }

    static func json(_ report: AuditReport) -> JSONValue {
        .object([
            "passed": .bool(report.passed), "entriesChecked": .integer(Int64(report.entriesChecked)),
            "checkpointsChecked": .integer(Int64(report.checkpointsChecked)),
            "treeSize": .integer(Int64(report.treeSize)), "root": .string(Hex.encode(report.rootHash)),
            "failuresTruncated": .bool(report.failuresTruncated),
            "failures": .array(
                report.failures.map {
                    .object([
                        "index": $0.index.map { .integer(Int64($0)) } ?? .null,
                        "product": $0.product.map { .string($0) } ?? .null, "rule": .string($0.rule),
                        "reason": .string($0.reason),
                    ])
                }),
        ])
    }

    static func text(_ report: AuditReport, source: String) -> String {
        var lines = [
            (report.passed ? "PASSED " : "FAILED ") + "audit of \(source)",
            Output.fields(
                [
                    ("entries checked", "\(report.entriesChecked)"), ("checkpoints", "\(report.checkpointsChecked)"),
                    ("tree size", "\(report.treeSize)"), ("root", Hex.encode(report.rootHash)),
                ], indent: "  "),
        ]
        for failure in report.failures { lines.append("  ✗ \(failure.description)") }
        if report.failuresTruncated { lines.append("  … more failures not listed") }
        return lines.joined(separator: "\n")
    }
}
