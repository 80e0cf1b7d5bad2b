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
        commandName: "scan", abstract: "Dock verdict for a returned item (exit 0 only for genuine-returnable).",
        discussion: """
            Against a ledger (--db), a remote ledger (--server: the verdict is recomputed here from the evidence \
            the server returns, under --governance-key/--log-key), or offline against the item's proof bundle \
            (--bundle) with only the trust roots (--governance-key/--log-key, by default keys/governance.pub and \
            keys/log.pub).
            """)

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
    @OptionGroup var trust: TrustOptions
    @OptionGroup var remote: RemoteOptions
    @OptionGroup var freshness: FreshnessOptions
    @OptionGroup var output: JSONFlag

    func validate() throws {
        let sources = [db != nil, bundle != nil, remote.server != nil].filter { $0 }.count
        guard try sources == 1 || (sources == 0 && remote.address(db: nil) != nil) else {
            throw ValidationError("give exactly one of --db, --server or --bundle")
        }
    }

    func run() throws {
        let text = identity.replacingOccurrences(of: "<GS>", with: "\u{1D}")
        _ = try LedgerAccess.parseIdentity(text)
        let orderDigest = try order.map { try LedgerAccess.parseDigest($0, option: "--order") }
        let now = try LedgerAccess.parseTime(time, option: "--time")
        let request = DockRequest(
            scan: text, rma: rma, orderDigest: orderDigest, dock: dock,
            servesRetailers: serves.isEmpty ? nil : Set(serves), now: now)
        let verdict: DockVerdict
        var witnessed: WitnessedCheckpoint?
        if bundle == nil, db == nil, let server = try remote.address(db: db) {
            let anchors = try Remote.anchors(trust)
            verdict = try Remote.run(remote, server: server, anchors: anchors) { ledger in
                try await ledger.verdict(request, now: now)
            }
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
        if output.json {
            try Output.json(FreshnessOptions.adding(witnessed, to: VerificationMapping.verdictJSON(verdict)))
        } else {
            Output.print(VerificationMapping.verdictText(verdict))
            if let witnessed { Output.print(FreshnessOptions.line(witnessed)) }
        }
        if !verdict.isReturnable { throw ExitCode(CLIError.refused) }
    }
}
