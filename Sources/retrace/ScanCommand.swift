import ArgumentParser
import CanonicalJSON
import Foundation
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceKit
import RetraceLedger
import RetraceVerification
import RetraceWitness

/// `retrace scan <identity>`: the receiving dock's verdict.
struct ScanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Dock verdict for a returned item (exit 0 only for genuine-returnable).",
        discussion: """
            Against a ledger (--db), a remote ledger (--server: the verdict is recomputed here from the evidence \
            the server returns, under --governance-key/--log-key), or offline against the item's proof bundle \
            (--bundle) with only the trust roots (--governance-key/--log-key, by default keys/governance.pub and \
            keys/log.pub).
            """
    )

    @Argument(help: "The scan, in any identity form.")
    var identity: String
    @Option(help: "The ledger file (SQLite).")
    var db: String?
    @Option(help: "Judge offline from this proof bundle instead of a ledger.")
    var bundle: String?
    @Option(help: "The dock's party id in the roster, e.g. litware.")
    var dock: String?
    @Option(help: "The RMA number the parcel claims.")
    var rma: String?
    @Option(help: "The salted order digest (hex) the customer's claim gives.")
    var order: String?
    @Option(help: "For a returns centre: a retailer it serves (repeatable).")
    var serves: [String] = []
    @Option(help: "The time of the return (default: now).")
    var time: String?
    @Option(help: "Append the scan and its verdict, signed with --key, to this dock's scan journal (for insights).")
    var journal: String?
    @Option(help: "With --journal: the dock party's private key file.")
    var key: String?
    @OptionGroup var trust: TrustOptions
    @OptionGroup var remote: RemoteOptions
    @OptionGroup var freshness: FreshnessOptions
    @OptionGroup var output: JSONFlag

    func validate() throws {
        let sources = [db != nil, bundle != nil, remote.server != nil].filter { $0 }.count
        guard try sources == 1 || (sources == 0 && remote.address(db: nil) != nil) else {
            throw ValidationError("give exactly one of --db, --server or --bundle")
        }
        guard (journal == nil) == (key == nil) else { throw ValidationError("--journal and --key go together") }
    }

    func run() throws {
        let text = identity.replacingOccurrences(of: "<GS>", with: "\u{1D}")
        _ = try LedgerAccess.parseIdentity(text)
        let orderDigest = try order.map { try LedgerAccess.parseDigest($0, option: "--order") }
        let now = try LedgerAccess.parseTime(time, option: "--time")
        let request = DockRequest(
            scan: text,
            rma: rma,
            orderDigest: orderDigest,
            dock: dock,
            servesRetailers: serves.isEmpty ? nil : Set(serves),
            now: now
        )
        let verdict: DockVerdict
        var witnessed: WitnessedCheckpoint?
        if bundle == nil, db == nil, let server = try remote.address(db: db) {
            let anchors = try Remote.anchors(trust)
            verdict = try Remote.run(remote, server: server, anchors: anchors, freshness: freshness) { ledger in
                try await ledger.verdict(request, now: now)
            }
            witnessed = Remote.witnessed.withLock { $0 }
        } else if let bundle {
            let anchors = try trust.offlineAnchors(quiet: output.json)
            let bytes = try LedgerAccess.readFile(bundle, what: "bundle")
            do { verdict = try EvidenceVerifier(anchors: anchors).verdict(request, bundle: bytes, now: now) } catch {
                throw VerificationMapping.cliError(error)
            }
            witnessed = try (try? ProofBundle(parsing: bytes)).flatMap {
                try freshness.check(note: $0.checkpoint, logKey: anchors.logKey)
            }
        } else {
            let ledger = try LedgerAccess.openReadOnly(db ?? "")
            let anchors = try trust.anchors(for: ledger)
            let verifier = Verifier(store: ledger.store, anchors: anchors)
            do { verdict = try verifier.verdict(request) } catch { throw VerificationMapping.cliError(error) }
            let latest = try? ledger.store.read { try $0.latestCheckpoint()?.note }
            witnessed = try FreshnessOptions.ledgerNote(db: db ?? "", fallback: latest ?? nil).flatMap {
                try freshness.check(note: $0, logKey: anchors.logKey)
            }
        }
        if let journal, let key {
            try Self.record(verdict, scan: text, time: now, journal: journal, keyFile: key)
        }
        if output.json {
            try Output.json(FreshnessOptions.adding(witnessed, to: VerificationMapping.verdictJSON(verdict)))
        } else {
            Output.print(VerificationMapping.verdictText(verdict))
            if let witnessed { Output.print(FreshnessOptions.line(witnessed)) }
        }
        if !verdict.isReturnable { throw ExitCode(CLIError.refused) }
    }

    /// Appends one signed observation line and syncs it before the verdict is printed: a scan the
    /// dock was told about is in its journal.
    static func record(_ verdict: DockVerdict, scan: String, time: Timestamp, journal: String, keyFile: String) throws {
        let signer = try LedgerAccess.readPrivateKey(keyFile, what: "dock key")
        let product = try? IdentityParser.parse(scan).sgtin
        let observation = try DockObservation.sign(
            scan: scan,
            product: product,
            verdict: verdict.code.rawValue,
            time: time,
            checkpointSize: verdict.checkpointSize,
            location: nil,
            key: signer.privateKey,
            publicKey: signer.verifier.publicKey
        )
        let line = try CanonicalJSON.encode(observation.json) + [0x0a]
        if !FileManager.default.fileExists(atPath: journal) {
            guard FileManager.default.createFile(atPath: journal, contents: nil) else {
                throw CLIError.usage("cannot create the scan journal \(journal); check the directory")
            }
        }
        guard let handle = FileHandle(forUpdatingAtPath: journal) else {
            throw CLIError.usage("cannot open the scan journal \(journal) for appending")
        }
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(line))
        try handle.synchronize()
    }
}
