import ArgumentParser
import CanonicalJSON
import Foundation
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceKit
import RetraceLedger
import RetraceVerification

/// `retrace history <identity>`: a product's verified life.
struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history", abstract: "A product's verified history: who, what, when, where.")

    @Argument(help: "The product identity, in any form.")
    var identity: String
    @Option(help: "The ledger file (SQLite).")
    var db: String?
    @OptionGroup var remote: RemoteOptions
    @OptionGroup var trust: TrustOptions
    @OptionGroup var output: JSONFlag

    func run() throws {
        let product = try LedgerAccess.parseIdentity(identity).sgtin
        let history: ProductHistory
        if let server = try remote.address(db: db) {
            history = try Remote.run(remote, server: server, anchors: try Remote.anchors(trust)) { ledger in
                try await ledger.history(product)
            }
        } else {
            let ledger = try LedgerAccess.openReadOnly(try RemoteOptions.requireDB(db))
            let verifier = Verifier(store: ledger.store, anchors: try trust.anchors(for: ledger))
            do { history = try verifier.history(scan: product.digitalLink) } catch {
                throw VerificationMapping.cliError(error)
            }
        }
        if output.json {
            try Output.json(VerificationMapping.historyJSON(history))
        } else {
            Output.print(VerificationMapping.historyText(history))
        }
    }
}
