import ArgumentParser
import CanonicalJSON
import Foundation
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceKit
import RetraceLedger
import RetraceVerification

/// `retrace verify-recycling <identity | certificate>`: proof of recycling, from a ledger, a remote
/// ledger (recomputed here from its evidence) or a bundle file alone.
struct VerifyRecyclingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-recycling",
        abstract: "Prove a product was recycled by an accredited recycler (by identity or certificate number).",
        discussion: """
            From a ledger (--db), a remote ledger (--server, checked here under --governance-key/--log-key), or \
            offline from a bundle file (--bundle: a product bundle, or a certificate bundle from \
            `retrace bundle CERTIFICATE`) with only the trust roots.
            """
    )

    @Argument(help: "A product identity, or a recycling certificate number.")
    var subject: String
    @Option(help: "The ledger file (SQLite).")
    var db: String?
    @Option(help: "Check offline against this proof bundle (product or certificate bundle).")
    var bundle: String?
    @OptionGroup var remote: RemoteOptions
    @OptionGroup var freshness: FreshnessOptions
    @OptionGroup var trust: TrustOptions
    @OptionGroup var output: JSONFlag

    func run() throws {
        let product = try? IdentityParser.parse(subject).sgtin
        let proofs: [RecyclingProof]
        if let bundle {
            guard db == nil, remote.server == nil else {
                throw CLIError.usage("give one of --db, --server or --bundle")
            }
            try freshness.requireServer("verify-recycling --bundle")
            proofs = try offline(bundle, product: product)
        } else if let server = try remote.address(db: db) {
            let subject = self.subject
            proofs = try Remote.run(remote, server: server, anchors: try Remote.anchors(trust), freshness: freshness) {
                ledger in
                if let product { return [try await ledger.recyclingProof(product)] }
                return try await ledger.recyclingProofs(certificate: subject)
            }
        } else {
            try freshness.requireServer("verify-recycling --db")
            let ledger = try LedgerAccess.openReadOnly(try RemoteOptions.requireDB(db))
            let verifier = Verifier(store: ledger.store, anchors: try trust.anchors(for: ledger))
            do {
                if let product {
                    proofs = [try verifier.recyclingProof(scan: product.digitalLink)]
                } else {
                    proofs = try verifier.recyclingProofs(certificate: subject)
                }
            } catch { throw VerificationMapping.cliError(error) }
        }
        let allVerified = !proofs.isEmpty && proofs.allSatisfy { $0.status == .verified }
        if output.json {
            try Output.json(
                .object([
                    "verified": .bool(allVerified), "proofs": .array(proofs.map(VerificationMapping.recyclingJSON)),
                ])
            )
        } else {
            Output.print(Output.table(proofs.map { ["\($0.status.rawValue.uppercased())", $0.product] }))
            for proof in proofs where proof.status != .verified || proofs.count == 1 {
                Output.print("  \(proof.message)")
                for reason in proof.reasons { Output.print("    - \(reason)") }
            }
            Remote.printWitnessed(json: false)
        }
        if !allVerified { throw ExitCode(CLIError.refused) }
    }

    /// spec/verification.md §5: a claim checked against a bundle file and the trust roots alone.
    private func offline(_ path: String, product: SGTIN?) throws -> [RecyclingProof] {
        let anchors = try trust.offlineAnchors(quiet: output.json)
        let bytes = try LedgerAccess.readFile(path, what: "bundle")
        let verifier = EvidenceVerifier(anchors: anchors)
        do {
            if let product { return [try verifier.recyclingProof(scan: product.digitalLink, bundle: bytes)] }
            let parsed = try ProofBundle(parsing: bytes)
            let verified = try verifier.verify(parsed)
            guard let certificate = verified.certificate else {
                throw CLIError.usage("\(path) is a product bundle; name the product, or give a certificate bundle")
            }
            let number = certificate.entry.statement.details["certificate"]?.stringValue ?? "none"
            guard number == subject else {
                throw CLIError(
                    CLIError.refused,
                    "\(path) is the bundle of certificate \(number), not of \(subject)"
                )
            }
            return try verifier.recyclingProofs(certificateBundle: parsed)
        } catch let error as VerificationError { throw VerificationMapping.cliError(error) }
    }
}
