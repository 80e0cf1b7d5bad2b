import ArgumentParser
import CanonicalJSON
import Foundation
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceLedger
import RetraceVerification

enum VerificationMapping {
    /// Bundle and evidence failures are "checked and found false" (1); unreadable input is 2.
    static func cliError(_ error: VerificationError) -> CLIError {
        let cannot: Set<VerificationError.Code> = [.malformedBundle, .unsupportedFormat, .invalidScan, .storage]
        if cannot.contains(error.code) {
            return CLIError(CLIError.cannotCheck, "\(error.description); check the input file or identity")
        }
        if error.code == .notFound {
            return CLIError(CLIError.refused, "\(error.description); check the identity or the ledger")
        }
        return CLIError(CLIError.refused, "does not verify: \(error.description); do not trust this evidence")
    }

    static func verdictJSON(_ verdict: DockVerdict) -> JSONValue { verdict.json }

    static func verdictText(_ verdict: DockVerdict) -> String {
        var rows: [(String, String)] = [("verdict", verdict.code.rawValue.uppercased()), ("product", verdict.product)]
        if let disposition = verdict.suggestedDisposition { rows.append(("next", disposition.rawValue)) }
        if let size = verdict.checkpointSize { rows.append(("checkpoint", "size \(size)")) }
        var text = Output.fields(rows) + "\n" + verdict.message
        for reason in verdict.reasons { text += "\n  - " + reason }
        if !verdict.evidence.isEmpty {
            text += "\nevidence: " + verdict.evidence.map { String($0.prefix(12)) }.joined(separator: " ")
        }
        return text
    }

    static func historyJSON(_ history: ProductHistory) -> JSONValue { history.json }

    static func historyText(_ history: ProductHistory) -> String {
        var fields: [(String, String)] = []
        if let productClass = history.productClass {
            fields.append(
                (
                    "class",
                    history.title + " (GTIN \(history.gtin); \(productClass.party), entry \(productClass.index))"
                )
            )
            if let image = productClass.image {
                fields.append(("image", "\(image.url) sha256 \(image.sha256.prefix(16))…"))
            }
        }
        var text = Output.fields(
            fields + [
                ("product", history.product), ("passport", history.passport), ("phase", history.phase),
                (
                    "verified",
                    "\(history.events.count) events against signed checkpoint \(history.checkpoint.size) "
                        + "(root \(history.checkpoint.rootHash.prefix(16))…)"
                ),
                ("history", history.completeness),
            ]
        )
        text +=
            "\n\n"
            + Output.table(
                [["  #", "time", "where", "what"]]
                    + history.events.map { ["  \($0.index)", $0.time, $0.location ?? "-", $0.summary] }
            )
        return text
    }

    static func recyclingJSON(_ proof: RecyclingProof) -> JSONValue { proof.json }
}
