import ArgumentParser
import CanonicalJSON
import Foundation
import RetraceAudit
import RetraceCrypto
import RetraceEvents
import RetraceLedger
import RetracePostgres
import RetraceSimulation
import RetraceStorage
import RetraceVerification

/// `retrace demo`: the whole product on the embedded test parties, end to end.
///
/// Builds a ledger, plays the demo story (about fifty products through every flow, with planted
/// frauds), scans every return at a dock, shows a history, writes and verifies a proof bundle,
/// checks a recycling certificate, audits the ledger, and says what to try next. Exit 0 only if
/// every verdict is the one the story planted and the audit passes.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Build a demo ledger, play a story with planted frauds, and verify it all."
    )

    @Option(help: "Where to create the demo ledger.")
    var db: String = "retrace-demo.sqlite"
    @Flag(help: "Replace an existing demo ledger and its files.")
    var force = false
    @OptionGroup var output: JSONFlag

    /// The demo story ends about 130 days after its start; the log's clock never runs behind it, so
    /// statements signed "now" can follow the story's own.
    static let clock: @Sendable () -> Timestamp = {
        max(Ledger.systemClock(), DemoStory.start.adding(seconds: 130 * 86_400))
    }

    /// Creates the demo ledger at `db` and plays the story into it (also `retrace serve --demo`).
    /// A failure removes the half-made file.
    static func seed(
        db: String,
        parties: TestParties,
        progress: @escaping (Int, Int) -> Void = { _, _ in }
    ) throws -> (Ledger, DemoScript) {
        // Only what this command created is removed on failure: never a ledger that was already there.
        let store = try StoreLocation.create(db)
        do {
            let ledger = try Ledger.create(
                store: store,
                origin: TestParties.origin,
                logSigner: parties.log,
                governance: [parties.governance.verifier],
                roster: parties.signedRoster(time: DemoStory.start),
                clock: clock
            )
            let script = try DemoStory.play(on: ledger, parties: parties, progress: progress)
            return (ledger, script)
        } catch {
            LedgerAccess.removeCreatedLedger(db)
            throw error
        }
    }

    func run() throws {
        // The bundle, keys and scan journal sit beside an SQLite ledger; a PostgreSQL ledger has no
        // "beside", so they go to the current directory under its schema's name.
        let base =
            PostgresLedgerStore.isURL(db)
            ? "retrace-demo-\(PostgresLedgerStore.schemaName(url: db) ?? "retrace")"
            : db.hasSuffix(".sqlite") ? String(db.dropLast(".sqlite".count)) : db
        let bundlePath = base + "-bundle.json"
        let keyDirectory = base + "-keys"
        let journalPath = base + "-scans.jsonl"
        let manager = FileManager.default
        for path in [db, bundlePath, keyDirectory, journalPath] where manager.fileExists(atPath: path) {
            guard force else { throw CLIError.usage("\(path) already exists; pass --force to replace the demo files") }
        }
        if force {
            if PostgresLedgerStore.isURL(db) {
                do { try PostgresLedgerStore.dropLedger(url: db) } catch {
                    throw CLIError.usage("--force cannot replace \(db): \(error)")
                }
            }
            LedgerAccess.removeLedgerFiles(db)
            try? manager.removeItem(atPath: bundlePath)
            try? manager.removeItem(atPath: keyDirectory)
            try? manager.removeItem(atPath: journalPath)
        }
        let parties = try TestParties()
        let say: (String) -> Void = output.json ? { _ in } : { Output.print($0) }

        // 1. The ledger and the story.
        let clock = Self.clock
        let progress = Progress(total: 1, label: "story")
        let (ledger, script) = try Self.seed(db: db, parties: parties) { done, total in
            progress.update(done, total: total)
        }
        progress.finish()
        let head = try LedgerFacts.head(ledger)
        say("Retrace demo: a ledger of authenticated product returns (test parties; test keys only)")
        say("")
        say(
            "1. Played the story into \(db): \(script.products.count) products, \(script.statementCount) signed "
                + "statements, \(script.start) to \(script.end); tree size \(head.size)"
        )

        // Trust anchors are the test parties' public keys, not what the ledger file says about itself.
        let anchors = TrustAnchors(
            governance: [parties.governance.verifier],
            logKey: parties.log.verifier,
            origin: TestParties.origin
        )
        let verifier = Verifier(store: ledger.store, anchors: anchors, clock: clock)

        // 2. Dock scans.
        say("")
        say("2. Returns scanned at the dock (\(script.scans.count)):")
        var scanResults: [JSONValue] = []
        var rows: [[String]] = [["  ", "dock", "verdict", "what happened"]]
        var matched = 0
        var journal: [UInt8] = []
        for scan in script.scans {
            let verdict: DockVerdict
            do {
                verdict = try verifier.verdict(
                    DockRequest(
                        scan: scan.scan,
                        rma: scan.claimedRMA,
                        orderDigest: scan.claimedOrderDigest,
                        dock: scan.dock,
                        now: scan.time
                    )
                )
            } catch { throw VerificationMapping.cliError(error) }
            let ok = verdict.code.rawValue == scan.expectedVerdict
            if ok { matched += 1 }
            // Each dock signs what it saw into its scan journal, which `retrace insights --scans` counts.
            let dockKey = try parties.signer(scan.dock)
            let observation = try DockObservation.sign(
                scan: scan.scan,
                product: scan.product,
                verdict: verdict.code.rawValue,
                time: scan.time,
                checkpointSize: verdict.checkpointSize,
                location: nil,
                key: dockKey.privateKey,
                publicKey: dockKey.verifier.publicKey
            )
            journal += try CanonicalJSON.encode(observation.json) + [0x0a]
            rows.append([
                ok ? "  ✓" : "  ✗", scan.dock,
                verdict.code.rawValue + (ok ? "" : " (expected \(scan.expectedVerdict))"), scan.story,
            ])
            var object = VerificationMapping.verdictJSON(verdict).objectValue ?? JSONObject()
            object["scan"] = .string(scan.scan)
            object["dock"] = .string(scan.dock)
            object["expected"] = .string(scan.expectedVerdict)
            object["matched"] = .bool(ok)
            object["time"] = .string(scan.time.description)
            object["rma"] = scan.claimedRMA.map { .string($0) } ?? .null
            object["order"] = scan.claimedOrderDigest.map { .string($0.hex) } ?? .null
            scanResults.append(.object(object))
        }
        say(Output.table(rows))
        try LedgerAccess.writeNew(journalPath, journal)
        say("   signed by each dock into its scan journal \(journalPath)")
        let caught = Set(script.scans.map(\.expectedVerdict)).subtracting(["genuine-returnable"]).sorted()

        // 3. A product's history.
        let history: ProductHistory
        do { history = try verifier.history(scan: script.showcase.digitalLink) } catch {
            throw VerificationMapping.cliError(error)
        }
        say("")
        say("3. History of a certified pre-owned phone:")
        say(VerificationMapping.historyText(history).split(separator: "\n").map { "   " + $0 }.joined(separator: "\n"))

        // 4. An offline proof bundle, verified with only the two public trust-root keys.
        try manager.createDirectory(atPath: keyDirectory, withIntermediateDirectories: true)
        let governancePub = (keyDirectory as NSString).appendingPathComponent("governance.pub")
        let logPub = (keyDirectory as NSString).appendingPathComponent("log.pub")
        try LedgerAccess.writeNew(governancePub, Array((parties.governance.verifier.description + "\n").utf8))
        try LedgerAccess.writeNew(logPub, Array((parties.log.verifier.description + "\n").utf8))
        let bundleVerified: Bool
        let bundleEvents: Int
        do {
            let bytes = try verifier.bundle(scan: script.showcase.digitalLink).encoded()
            try LedgerAccess.writeNew(bundlePath, bytes)
            let offline = EvidenceVerifier(
                anchors: TrustAnchors(
                    governance: [try LedgerAccess.readPublicKey(governancePub, what: "governance key")],
                    logKey: try LedgerAccess.readPublicKey(logPub, what: "log key")
                )
            )
            let verified = try offline.verify(bytes: try LedgerAccess.readFile(bundlePath, what: "bundle"))
            bundleEvents = verified.products.first?.events.count ?? 0
            bundleVerified = true
        } catch let error as VerificationError { throw VerificationMapping.cliError(error) }
        say("")
        say(
            "4. Proof bundle \(bundlePath): \(bundleEvents) events, verified offline with only "
                + "\(governancePub) and \(logPub)"
        )

        // 5. Proof of recycling for the pallet certificate.
        let proofs: [RecyclingProof]
        do { proofs = try verifier.recyclingProofs(certificate: script.recyclingCertificate) } catch {
            throw VerificationMapping.cliError(error)
        }
        say("")
        say("5. Recycling certificate \(script.recyclingCertificate): \(proofs.count) items")
        say(Output.table(proofs.map { ["   " + $0.status.rawValue, $0.product, $0.massCheck.rawValue] }))

        // 6. The audit, trusting only the public keys.
        let auditProgress = Progress(total: Int(head.size), label: "audit")
        let auditor = Auditor(
            trustRoots: [parties.governance.verifier],
            logKey: parties.log.verifier,
            origin: TestParties.origin,
            threads: 2,
            keepGoing: true,
            progress: { done, total in auditProgress.update(Int(done), total: Int(total)) }
        )
        let report = try auditor.audit(store: ledger.store)
        auditProgress.finish()
        say("")
        say("6. " + AuditCommand.text(report, source: db))

        let passed = matched == script.scans.count && report.passed && bundleVerified
        if output.json {
            try Output.json(
                .object([
                    "passed": .bool(passed), "db": .string(db), "products": .integer(Int64(script.products.count)),
                    "statements": .integer(Int64(script.statementCount)), "treeSize": .integer(Int64(head.size)),
                    "scans": .array(scanResults), "matched": .integer(Int64(matched)),
                    "fraudClasses": .array(caught.map { .string($0) }),
                    "history": VerificationMapping.historyJSON(history),
                    "bundle": .object(["path": .string(bundlePath), "verified": .bool(bundleVerified)]),
                    "scanJournal": .string(journalPath),
                    "recycling": .array(proofs.map(VerificationMapping.recyclingJSON)),
                    "audit": AuditCommand.json(report),
                ])
            )
        } else {
            let sample = script.scans.first { $0.expectedVerdict == "already-returned" } ?? script.scans.first
            say("")
            say(
                "Summary: \(matched) of \(script.scans.count) dock verdicts as planted; caught "
                    + caught.joined(separator: ", ") + "; bundle verified offline; audit "
                    + (report.passed ? "passed" : "FAILED") + "."
            )
            say("")
            say("Explore further:")
            var commands = [
                "retrace history '\(script.showcase.digitalLink)' --db \(db)",
                "retrace verify-bundle \(bundlePath) --governance-key \(governancePub) --log-key \(logPub)",
                "retrace verify-recycling '\(script.recyclingCertificate)' --db \(db)",
                "retrace audit --db \(db) --governance-key \(governancePub) --log-key \(logPub) --origin \(TestParties.origin)",
                "retrace insights --db \(db) --scans \(journalPath)",
                "retrace export --format epcis --db \(db) --out demo-epcis.jsonld",
                "retrace checkpoint --db \(db)",
                "retrace roster show --db \(db)",
            ]
            if let sample {
                commands.insert(
                    "retrace scan '\(sample.product.digitalLink)' --db \(db) --dock \(sample.dock)",
                    at: 0
                )
            }
            let invocation = Self.invocation()
            say(commands.map { "  " + invocation + $0.dropFirst("retrace".count) }.joined(separator: "\n"))
        }
        if !passed { throw ExitCode(CLIError.refused) }
    }

    /// How to run `retrace` again the way it was run now: a user of `swift run retrace demo` has no
    /// `retrace` on the PATH, so the commands to explore further say `swift run retrace`.
    static func invocation() -> String {
        let path = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
        if path.contains("/.build/") { return "swift run retrace" }
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
        let onPath = directories.contains { FileManager.default.isExecutableFile(atPath: "\($0)/retrace") }
        return onPath ? "retrace" : path
    }
}
