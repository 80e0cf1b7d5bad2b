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

/// `retrace history <identity>`: a product's verified life.
struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "A product's verified history: who, what, when, where."
    )

    @Argument(help: "The product identity, in any form.")
    var identity: String
    @Option(help: "The ledger file (SQLite).")
    var db: String?
    @OptionGroup var remote: RemoteOptions
    @OptionGroup var trust: TrustOptions
    @OptionGroup var freshness: FreshnessOptions
    @OptionGroup var output: JSONFlag

    func run() throws {
        let product = try LedgerAccess.parseIdentity(identity).sgtin
        let history: ProductHistory
        var witnessed: WitnessedCheckpoint?
        if let server = try remote.address(db: db) {
            history = try Remote.run(remote, server: server, anchors: try Remote.anchors(trust), freshness: freshness) {
                ledger in
                try await ledger.history(product)
            }
            witnessed = Remote.witnessed.withLock { $0 }
        } else {
            let path = try RemoteOptions.requireDB(db)
            let ledger = try LedgerAccess.openReadOnly(path)
            let anchors = try trust.anchors(for: ledger)
            let verifier = Verifier(store: ledger.store, anchors: anchors)
            do { history = try verifier.history(scan: product.digitalLink) } catch {
                throw VerificationMapping.cliError(error)
            }
            let latest = try? ledger.store.read { try $0.latestCheckpoint()?.note }
            witnessed = try FreshnessOptions.ledgerNote(db: path, fallback: latest ?? nil).flatMap {
                try freshness.check(note: $0, logKey: anchors.logKey)
            }
        }
        if output.json {
            try Output.json(FreshnessOptions.adding(witnessed, to: VerificationMapping.historyJSON(history)))
        } else {
            Output.print(VerificationMapping.historyText(history))
            if let witnessed { Output.print(FreshnessOptions.line(witnessed)) }
        }
    }
}
