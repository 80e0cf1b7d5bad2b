import ArgumentParser
import CanonicalJSON
import Foundation
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceLedger
import RetraceVerification

/// `retrace verify-recycling <identity | certificate>`: proof of recycling.
struct VerifyRecyclingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-recycling",
        abstract: "Prove a product was recycled by an accredited recycler (by identity or certificate number).")

    @Argument(help: "A product identity, or a recycling certificate number.")
    var subject: String
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var trust: TrustOptions
    @OptionGroup var output: JSONFlag

    func run() throws {
        let ledger = try LedgerAccess.openReadOnly(database.db)
        let verifier = Verifier(store: ledger.store, anchors: try trust.anchors(for: ledger))
        let proofs: [RecyclingProof]
        do {
            if let scan = try? IdentityParser.parse(subject) {
                proofs = [try verifier.recyclingProof(scan: scan.sgtin.digitalLink)]
            } else {
                proofs = try verifier.recyclingProofs(certificate: subject)
            }
        } catch { throw VerificationMapping.cliError(error) }
        let allVerified = proofs.allSatisfy { $0.status == .verified }
        if output.json {
            try Output.json(
                .object([
                    "verified": .bool(allVerified), "proofs": .array(proofs.map(VerificationMapping.recyclingJSON)),
                ]))
        } else {
            Output.print(Output.table(proofs.map { ["\($0.status.rawValue.uppercased())", $0.product] }))
            for proof in proofs where proof.status != .verified || proofs.count == 1 {
                Output.print("  \(proof.message)")
                for reason in proof.reasons { Output.print("    - \(reason)") }
            }
        }
        if !allVerified { throw ExitCode(CLIError.refused) }
    }
}
