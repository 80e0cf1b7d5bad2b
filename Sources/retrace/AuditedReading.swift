import Foundation
import RetraceAudit
import RetraceCrypto
import RetraceLedger
import RetraceStorage

/// Reads a ledger through a full audit, for commands that derive something from it (an EPCIS
/// export, insights): each accepted event is handed on as it is judged, and the command fails
/// when the audit does, so nothing is ever derived from an entry the audit would refuse.
enum AuditedReading {
    static func read(
        db: String,
        trust: TrustOptions,
        label: String,
        since: String? = nil,
        observe: @escaping (AuditedEvent) throws -> Void
    ) throws -> AuditReport {
        let ledger = try LedgerAccess.openReadOnly(db)
        let anchors = try trust.anchors(for: ledger)
        let progress = Progress(total: 1, label: label)
        let auditor = Auditor(
            trustRoots: anchors.governance,
            logKey: anchors.logKey,
            origin: anchors.origin,
            progress: { done, total in progress.update(Int(done), total: Int(total)) }
        )
        let report: AuditReport
        do {
            if let since {
                report = try auditor.audit(store: ledger.store, since: since, observe: observe)
            } else {
                report = try auditor.audit(store: ledger.store, observe: observe)
            }
        } catch let error as AuditError {
            progress.finish()
            throw CLIError(CLIError.cannotCheck, "\(label): the ledger could not be audited: \(error.reason)")
        }
        progress.finish()
        guard report.passed else {
            let first = report.failures.first.map { ": \($0.description)" } ?? ""
            throw CLIError(
                CLIError.refused,
                "\(label): the ledger fails its audit\(first); nothing is reported from a ledger that does not verify "
                    + "(run `retrace audit --all` for every failure)"
            )
        }
        return report
    }
}
