import ArgumentParser
import CanonicalJSON
import Foundation
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceLedger
import RetraceVerification

/// `retrace bundle <identity> --out FILE`: the offline proof bundle of one product.
struct BundleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bundle", abstract: "Write a product's offline proof bundle (verify it with verify-bundle).")

    @Argument(help: "The product identity, in any form.")
    var identity: String
    @OptionGroup var database: DatabaseOptions
    @Option(help: "The bundle file to write.")
    var out: String
    @Flag(help: "Overwrite an existing file.")
    var force = false
    @OptionGroup var output: JSONFlag

    func run() throws {
        let product = try LedgerAccess.parseIdentity(identity).sgtin
        if FileManager.default.fileExists(atPath: out), !force {
            throw CLIError.usage("\(out) already exists; choose another path or pass --force")
        }
        let ledger = try LedgerAccess.openReadOnly(database.db)
        let verifier = Verifier(ledger: ledger)
        let bytes: [UInt8]
        let bundle: ProofBundle
        do {
            bundle = FreshnessOptions.cosigned(try verifier.bundle(scan: product.digitalLink), db: database.db)
            bytes = try bundle.encoded()
        } catch { throw VerificationMapping.cliError(error) }
        try LedgerAccess.writeNew(out, bytes, force: force)
        let events = bundle.products.first?.events.count ?? 0
        if output.json {
            try Output.json(
                .object([
                    "out": .string(out), "product": .string(product.digitalLink), "events": .integer(Int64(events)),
                    "bytes": .integer(Int64(bytes.count)), "rosterEntries": .integer(Int64(bundle.roster.count)),
                ]))
        } else {
            Output.print("Wrote \(out): \(events) events of \(product.digitalLink), \(bytes.count) bytes")
        }
    }
}
