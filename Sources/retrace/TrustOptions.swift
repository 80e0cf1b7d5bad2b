import ArgumentParser
import CanonicalJSON
import Foundation
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceLedger
import RetraceVerification

/// Trust anchors for verification: given as public key files, or else the ones recorded in the ledger.
struct TrustOptions: ParsableArguments {
    @Option(name: .customLong("governance-key"), help: "Trusted governance public key file (NAME.pub).")
    var governanceKey: String?
    @Option(name: .customLong("log-key"), help: "Trusted log public key file (NAME.pub).")
    var logKey: String?

    /// The anchors to verify `ledger` with. Without key files, the ledger's own recorded keys are used
    /// (convenient, but it trusts the file being checked: give key files to check independently).
    func anchors(for ledger: Ledger) throws -> TrustAnchors {
        guard governanceKey != nil || logKey != nil else {
            return TrustAnchors(governance: ledger.trustRoots, logKey: ledger.logKey, origin: ledger.origin)
        }
        guard let governanceKey, let logKey else {
            throw CLIError.usage("give both --governance-key and --log-key, or neither")
        }
        return TrustAnchors(
            governance: [try LedgerAccess.readPublicKey(governanceKey, what: "governance key")],
            logKey: try LedgerAccess.readPublicKey(logKey, what: "log key"),
            origin: nil
        )
    }

    /// For offline checks there is no ledger: key files, by default keys/governance.pub and keys/log.pub.
    func offlineAnchors(quiet: Bool) throws -> TrustAnchors {
        let governance = governanceKey ?? "keys/governance.pub"
        let log = logKey ?? "keys/log.pub"
        if governanceKey == nil || logKey == nil {
            guard FileManager.default.fileExists(atPath: governance), FileManager.default.fileExists(atPath: log) else {
                throw CLIError.usage(
                    "no trust roots: pass --governance-key GOV.pub and --log-key LOG.pub (keys/ has none here)"
                )
            }
            if !quiet { Output.error("note: trusting \(governance) and \(log) (default trust roots)") }
        }
        return TrustAnchors(
            governance: [try LedgerAccess.readPublicKey(governance, what: "governance key")],
            logKey: try LedgerAccess.readPublicKey(log, what: "log key"),
            origin: nil
        )
    }
}
