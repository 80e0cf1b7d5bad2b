import RetraceAudit
import RetraceSimulation
import RetraceStorage

/// The RetraceAudit module's verdict on a store.
///
/// The audit replays every signature and rule independently of the append path, so it catches what
/// the structural checks of ``LedgerChecker`` cannot. It always runs: a verdict that could be
/// missing would let the crash test skip its audit and pass without it (issue 16 point 25).
enum IndependentAudit {
    struct Verdict {
        let passed: Bool
        let treeSize: UInt64
        let failures: String
    }

    static func run(_ store: any LedgerStore, parties: TestParties) throws -> Verdict {
        let report = try Auditor(
            trustRoots: [parties.governance.verifier],
            logKey: parties.log.verifier,
            origin: TestParties.origin
        ).audit(store: store)
        return Verdict(
            passed: report.passed,
            treeSize: report.treeSize,
            failures: report.failures.prefix(3).map(\.description).joined(separator: "; ")
        )
    }
}
