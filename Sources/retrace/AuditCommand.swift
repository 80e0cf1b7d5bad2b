import ArgumentParser
import CanonicalJSON
import Foundation
import RetraceAudit
import RetraceCrypto
import RetraceKit
import RetraceLedger
import RetracePostgres
import RetraceStorage
import RetraceTiles
import RetraceVerification

/// `retrace audit`: verify a whole ledger (or only what came after a trusted checkpoint), or an export.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract:
            "Audit a ledger or an export: signatures, chains, roster, rules, checkpoints (exit 1 on any failure).",
        discussion: """
            Without --governance-key/--log-key/--origin the keys recorded in the ledger or export are trusted: that \
            checks the file against itself only (a note on standard error says so). Give the key files and the \
            origin you hold to audit independently. With --server the remote ledger is \
            fetched over HTTP, every entry proven against the server's signed checkpoint, and audited here under the \
            keys you give (required). --mirror STORE keeps that verified copy in a ledger store (an SQLite file or a \
            postgres:// URL, as --db takes) that scan, history and audit --db then read offline; each run fetches \
            only the entries after the checkpoint it verified last, checks the new checkpoint is consistent with it \
            (a rollback or fork exits 1 and writes nothing), audits only the new entries and commits them with the \
            checkpoint in one transaction, so a killed run leaves the mirror at its last verified checkpoint.
            """
    )

    @Option(help: "The ledger file (SQLite).")
    var db: String?
    @Option(help: "Audit this export file instead of a database.")
    var export: String?
    @Option(help: "Audit a log published as C2SP tlog-tiles: a folder, or an http(s):// URL (needs both key files).")
    var tiles: String?
    @Option(help: "A checkpoint note file trusted earlier: check consistency with it and only the newer entries.")
    var since: String?
    @Flag(help: "Keep going after the first failure and list them all.")
    var all = false
    @Option(name: .customLong("governance-key"), help: "Trusted governance public key file.")
    var governanceKey: String?
    @Option(name: .customLong("log-key"), help: "Trusted log public key file.")
    var logKey: String?
    @OptionGroup var remote: RemoteOptions
    @OptionGroup var freshness: FreshnessOptions
    @Option(
        help: """
            With --server: the ledger store (SQLite file or postgres:// URL) that keeps the verified copy between \
            audits; created on the first run.
            """
    )
    var mirror: String?
    @Option(help: "Worker threads for signature checks (1 or 2).")
    var threads: Int = 2
    @OptionGroup var output: JSONFlag

    func validate() throws {
        let server = try remote.server ?? (db == nil && export == nil && tiles == nil ? remote.address(db: nil) : nil)
        if server != nil {
            guard db == nil, export == nil, tiles == nil, since == nil else {
                throw ValidationError(
                    "--server audits the remote ledger; do not give --db, --export, --tiles or --since"
                )
            }
            return
        }
        guard mirror == nil || tiles != nil else { throw ValidationError("--mirror works with --server or --tiles") }
        guard [db, export, tiles].compactMap({ $0 }).count == 1 else {
            throw ValidationError("give exactly one of --db, --export, --tiles or --server")
        }
        guard tiles == nil || (governanceKey != nil && logKey != nil) else {
            throw ValidationError("--tiles needs --governance-key and --log-key: a tile host records no keys to trust")
        }
        guard since == nil || db != nil else { throw ValidationError("--since works with --db") }
        guard (governanceKey == nil) == (logKey == nil) else {
            throw ValidationError("give both --governance-key and --log-key, or neither")
        }
        // A log key is trusted for one origin (audit.md §1): without it, checkpoints the same key
        // signed for another log would pass.
        guard (logKey == nil) == (remote.origin == nil) else {
            throw ValidationError("give --origin ORIGIN with --log-key: a log key is trusted for one origin")
        }
    }

    func run() throws {
        if db == nil, export == nil, tiles == nil, let server = try remote.address(db: nil) {
            try runRemote(server)
            return
        }
        try freshness.requireServer("audit")
        let progress = Progress(total: 1, label: "audit")
        let callback: @Sendable (UInt64, UInt64) -> Void = { done, total in
            progress.update(Int(done), total: Int(total))
        }
        let report: AuditReport
        var governance: [NoteVerifier]
        var log: NoteVerifier
        var origin = remote.origin
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
                    + "not against keys you hold (give --governance-key, --log-key and --origin)"
            )
        }
        if let tiles, let mirror {
            try runTilesMirror(
                TiledSource(
                    log: TiledLog.at(tiles),
                    anchors: TrustAnchors(governance: governance, logKey: log, origin: origin)
                ),
                into: mirror
            )
            return
        }
        let trustedNote = try since.map { try LedgerAccess.readText($0, what: "checkpoint") }
        let auditor = Auditor(
            trustRoots: governance,
            logKey: log,
            origin: origin,
            threads: threads,
            keepGoing: all,
            progress: callback
        )
        do {
            if let db {
                let store = try StoreLocation.open(db, readOnly: true)
                if let trustedNote {
                    report = try auditor.audit(store: store, since: trustedNote)
                } else {
                    report = try auditor.audit(store: store)
                }
            } else if let tiles {
                report = try auditor.audit(tiles: TiledLog.at(tiles))
            } else {
                report = try auditor.audit(exportAt: export ?? "")
            }
        } catch let error as AuditError {
            progress.finish()
            throw CLIError(CLIError.cannotCheck, "audit could not run: \(error.reason); check the file and the keys")
        } catch let error as TileError {
            progress.finish()
            throw CLIError(CLIError.cannotCheck, "audit could not read the tiles: \(error.reason)")
        } catch {
            progress.finish()
            throw error
        }
        progress.finish()
        var size: UInt64?
        if let db { size = try StoreLocation.open(db, readOnly: true).read { reader in try reader.treeSize() } }
        if output.json {
            try Output.json(Self.json(report))
        } else {
            Output.print(Self.text(report, source: db ?? export ?? tiles ?? "", ledgerSize: size))
        }
        if !report.passed { throw ExitCode(CLIError.refused) }
    }

    /// The remote ledger copied into `--mirror` (or a scratch SQLite file) with every entry proven
    /// against a checkpoint verified here, and only what is new audited, under the keys given.
    private func runRemote(_ server: String) throws {
        let anchors = try Remote.anchors(governance: governanceKey, log: logKey)
        let scratch = mirror == nil
        let location = mirror ?? (NSTemporaryDirectory() + "retrace-audit-\(UUID().uuidString).sqlite")
        defer { if scratch { LedgerAccess.removeLedgerFiles(location) } }
        let sync = try Self.syncMirror(
            server: server,
            into: location,
            remote: remote,
            freshness: freshness,
            anchors: anchors,
            threads: threads,
            keepGoing: all
        )
        let report = sync.report
        if output.json {
            guard case .object(var object) = Self.json(report) else { return }
            object["server"] = .string(server)
            object["mirror"] = mirror.map { .string($0) } ?? .null
            object["from"] = .integer(Int64(sync.from))
            object["fetched"] = .integer(Int64(sync.fetched))
            object["committed"] = .bool(sync.committed)
            try Output.json(.object(object))
        } else {
            Output.print(Self.text(report, source: server, ledgerSize: sync.served))
            let from = sync.from == 0 ? "from the first entry" : "after checkpoint \(sync.from) (verified before)"
            Output.print(
                "  fetched          \(sync.fetched) entries \(from) up to checkpoint \(sync.served), each proven against it"
            )
            if let mirror {
                Output.print(
                    sync.committed
                        ? "  mirror           \(mirror) holds checkpoint \(sync.to)"
                        : "  mirror           \(mirror) unchanged at checkpoint \(sync.to): nothing was written"
                )
            }
            Remote.printWitnessed(json: false)
        }
        if !report.passed { throw ExitCode(CLIError.refused) }
    }

    /// `--tiles DIR|URL --mirror STORE`: the same verified, incremental copy as `--server` makes,
    /// read from C2SP tiles on any static host instead of the service's API.
    private func runTilesMirror(_ source: TiledSource, into location: String) throws {
        let isNew = !PostgresLedgerStore.isURL(location) && !FileManager.default.fileExists(atPath: location)
        let store = try StoreLocation.openMirror(location)
        let threads = self.threads
        let all = self.all
        let outcome = Remote.blocking { () -> Result<LedgerMirror.Sync, any Error> in
            do {
                return .success(
                    try await LedgerMirror(store: store, ledger: source).sync(threads: threads, keepGoing: all)
                )
            } catch { return .failure(error) }
        }
        let sync: LedgerMirror.Sync
        switch outcome {
        case .success(let value): sync = value
        case .failure(let error):
            if isNew { LedgerAccess.removeLedgerFiles(location) }
            if let error = error as? TileError {
                throw CLIError(CLIError.cannotCheck, "audit could not read the tiles: \(error.reason)")
            }
            throw Remote.cliError(error)
        }
        if isNew, !sync.committed { LedgerAccess.removeLedgerFiles(location) }
        if output.json {
            guard case .object(var object) = Self.json(sync.report) else { return }
            object["tiles"] = .string(source.log.location)
            object["mirror"] = .string(location)
            object["from"] = .integer(Int64(sync.from))
            object["fetched"] = .integer(Int64(sync.fetched))
            object["committed"] = .bool(sync.committed)
            try Output.json(.object(object))
        } else {
            Output.print(Self.text(sync.report, source: source.log.location, ledgerSize: sync.served))
            Output.print(
                sync.committed
                    ? "  mirror           \(location) holds checkpoint \(sync.to) (\(sync.fetched) entries read from tiles)"
                    : "  mirror           \(location) unchanged at checkpoint \(sync.to): nothing was written"
            )
        }
        if !sync.report.passed { throw ExitCode(CLIError.refused) }
    }

    /// Brings the verified copy at `location` up to the server's checkpoint (see the command's
    /// discussion); shared with `insights --server`, which then reads the copy.
    static func syncMirror(
        server: String,
        into location: String,
        remote: RemoteOptions,
        freshness: FreshnessOptions,
        anchors: TrustAnchors,
        threads: Int,
        keepGoing: Bool
    ) throws -> LedgerMirror.Sync {
        // A new SQLite mirror whose first run fails is removed again: a refusal leaves nothing behind.
        let isNew = !PostgresLedgerStore.isURL(location) && !FileManager.default.fileExists(atPath: location)
        let store = try StoreLocation.openMirror(location)
        let sync: LedgerMirror.Sync
        do {
            sync = try Remote.run(remote, server: server, anchors: anchors, freshness: freshness) { ledger in
                try await LedgerMirror(store: store, ledger: ledger).sync(threads: threads, keepGoing: keepGoing)
            }
        } catch {
            if isNew { LedgerAccess.removeLedgerFiles(location) }
            throw error
        }
        if isNew, !sync.committed { LedgerAccess.removeLedgerFiles(location) }
        return sync
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
            "headsRootsChecked": .integer(Int64(report.headsRootsChecked)),
            "treeSize": .integer(Int64(report.treeSize)), "root": .string(Hex.encode(report.rootHash)),
            "failuresTruncated": .bool(report.failuresTruncated),
            "failures": .array(
                report.failures.map {
                    .object([
                        "index": $0.index.map { .integer(Int64($0)) } ?? .null,
                        "product": $0.product.map { .string($0) } ?? .null, "rule": .string($0.rule),
                        "reason": .string($0.reason),
                    ])
                }
            ),
        ])
    }

    static func text(_ report: AuditReport, source: String, ledgerSize: UInt64? = nil) -> String {
        var sizeText = "\(report.treeSize)"
        if let ledgerSize, ledgerSize != report.treeSize {
            sizeText += " (stopped there; the ledger holds \(ledgerSize) entries)"
        }
        var lines = [
            (report.passed ? "PASSED " : "FAILED ") + "audit of \(source)",
            Output.fields(
                [
                    ("entries checked", "\(report.entriesChecked)"), ("checkpoints", "\(report.checkpointsChecked)"),
                    ("heads roots", "\(report.headsRootsChecked) recomputed from the log and matched"),
                    ("tree size", sizeText), ("root", Hex.encode(report.rootHash)),
                ],
                indent: "  "
            ),
        ]
        for failure in report.failures { lines.append("  ✗ \(failure.description)") }
        if report.failuresTruncated { lines.append("  … more failures not listed") }
        return lines.joined(separator: "\n")
    }
}
