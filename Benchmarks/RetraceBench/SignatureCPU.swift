import Foundation
import RetraceEvents
import RetraceLedger
import RetraceRules
import RetraceStorage

/// The CPU one core spends authenticating the very statements a section appends or audits
/// (roster lookup and Ed25519 verify through the wrapper, as the append and the audit call it),
/// measured just before that section: the section's CPU per event divided into this gives the
/// share of its work that is the signature floor. Both CPU figures are taken on the same
/// statements within seconds of each other, so the ratio does not depend on how many cores the
/// section kept busy; unlike instruction counts it includes the kernel's work (pwrite, fsync) and
/// memory stalls. It still moves with a VM whose speed changes between those seconds (55–69 % for
/// the same append in two runs on 2026-12-03): read it beside the instruction counts.
enum SignatureCPU {
    /// Microseconds of CPU per statement (user + system, this thread's process), over all of them.
    static func microsPerStatement(_ statements: [SignedStatement], trust: TrustState) -> Double {
        var checked = 0
        let used = Measure.cpu {
            for signed in statements where signed.statement.type != .roster {
                if (try? trust.authenticate(signed)) != nil { checked += 1 }
            }
        }
        return Double(used.user + used.system) / 1e3 / Double(max(1, checked))
    }

    /// The same over the first `count` statements a ledger file holds, against its roster.
    static func microsPerStatement(ledgerPath: String, count: UInt64 = 2_000) throws -> Double {
        let store = try SQLiteLedgerStore.open(path: ledgerPath, readOnly: true)
        let trust = try Ledger.open(store: store).trustState()
        var statements: [SignedStatement] = []
        try store.read { reader in
            try reader.forEachEntry(from: 1, to: min(try reader.treeSize(), 1 + count)) { stored in
                statements.append(try LogEntry(parsing: stored.bytes).signed)
            }
        }
        return microsPerStatement(statements, trust: trust)
    }
}
