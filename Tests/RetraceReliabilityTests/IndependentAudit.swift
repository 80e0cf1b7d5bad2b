#if canImport(RetraceAudit)
import RetraceAudit
#endif
import RetraceSimulation
import RetraceStorage

/// The RetraceAudit module's verdict on a store, when that module is linked into the tests.
///
/// The audit replays every signature and rule independently of the append path, so it catches what
/// the structural checks of ``LedgerChecker`` cannot; it is optional so these tests still build
/// where the audit module is absent (the structural checks then stand alone).
enum IndependentAudit {
    struct Verdict {
        let passed: Bool
        let treeSize: UInt64
        let failures: String
    }

    /// `nil` when the audit module is not linked.
    static func run(_ store: any LedgerStore, parties: TestParties) throws -> Verdict? {
        #if canImport(RetraceAudit)
        let report = try Auditor(
            trustRoots: [parties.governance.verifier], logKey: parties.log.verifier, origin: TestParties.origin
        ).audit(store: store)
        return Verdict(
            passed: report.passed, treeSize: report.treeSize,
            failures: report.failures.prefix(3).map(\.description).joined(separator: "; "))
        #else
        return nil
        #endif
    }
}
