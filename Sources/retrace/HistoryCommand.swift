import ArgumentParser
import CanonicalJSON
import Foundation
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceLedger
import RetraceVerification
import RetraceWitness

/// `retrace history <identity>`: a product's verified life.
struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history", abstract: "A product's verified history: who, what, when, where.")

    @Argument(help: "The product identity, in any form.")
    var identity: String
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var trust: TrustOptions
    @OptionGroup var freshness: FreshnessOptions
    @OptionGroup var output: JSONFlag

    func run() throws {
        let product = try LedgerAccess.parseIdentity(identity).sgtin
        let ledger = try LedgerAccess.openReadOnly(database.db)
        let anchors = try trust.anchors(for: ledger)
        let verifier = Verifier(store: ledger.store, anchors: anchors)
        let history: ProductHistory
        do { history = try verifier.history(scan: product.digitalLink) } catch {
            throw VerificationMapping.cliError(error)
        }
        let latest = try? ledger.store.read { try $0.latestCheckpoint()?.note }
        let witnessed = try FreshnessOptions.ledgerNote(db: database.db, fallback: latest ?? nil).flatMap {
            try freshness.check(note: $0, logKey: anchors.logKey)
        }
        if output.json {
            try Output.json(FreshnessOptions.adding(witnessed, to: VerificationMapping.historyJSON(history)))
        } else {
            Output.print(VerificationMapping.historyText(history))
            if let witnessed { Output.print(FreshnessOptions.line(witnessed)) }
        }
    }
}
