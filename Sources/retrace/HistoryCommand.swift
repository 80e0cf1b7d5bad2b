import ArgumentParser
import CanonicalJSON
import Foundation
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceLedger
import RetraceVerification

/// `retrace history <identity>`: a product's verified life.
struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history", abstract: "A product's verified history: who, what, when, where.")

    @Argument(help: "The product identity, in any form.")
    var identity: String
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var trust: TrustOptions
    @OptionGroup var output: JSONFlag

    func run() throws {
        let product = try LedgerAccess.parseIdentity(identity).sgtin
        let ledger = try LedgerAccess.openReadOnly(database.db)
        let verifier = Verifier(store: ledger.store, anchors: try trust.anchors(for: ledger))
        let history: ProductHistory
        do { history = try verifier.history(scan: product.digitalLink) } catch {
            throw VerificationMapping.cliError(error)
        }
        if output.json {
            try Output.json(VerificationMapping.historyJSON(history))
        } else {
            Output.print(VerificationMapping.historyText(history))
        }
    }
}
