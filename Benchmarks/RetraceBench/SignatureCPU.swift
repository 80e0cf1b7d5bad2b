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
/// memory stalls.
///
/// It is the median of several rounds, each timed on this thread's own CPU clock. One sample of
/// 2,000 statements (0.12 s) read 58–71 µs for the same ledger within one day (2026-12-05): this VM's
/// speed moves between such moments, and one slow moment then read as a low work floor for the
/// audit beside it. The median of five rounds leaves such a moment out, and the thread's clock
/// leaves out whatever else the process runs meanwhile (the WAL checkpointer of a ledger just
/// opened).
enum SignatureCPU {
    /// Microseconds of this thread's CPU per statement: the median over `rounds` consecutive
    /// slices of `statements`.
    static func microsPerStatement(_ statements: [SignedStatement], trust: TrustState, rounds: Int = 5) -> Double {
        let checkable = statements.filter { $0.statement.type != .roster }
        let size = max(1, checkable.count / max(1, rounds))
        var samples: [Double] = []
        for start in stride(from: 0, to: checkable.count - size + 1, by: size) {
            var checked = 0
            let before = SignatureFloor.threadCPUSeconds()
            for signed in checkable[start..<(start + size)] where (try? trust.authenticate(signed)) != nil {
                checked += 1
            }
            let used = SignatureFloor.threadCPUSeconds() - before
            samples.append(used * 1e6 / Double(max(1, checked)))
        }
        return Measure.median(samples)
    }

    /// The same over the first `count` statements a ledger file holds, against its roster.
    static func microsPerStatement(ledgerPath: String, count: UInt64 = 10_000) throws -> Double {
        let store = try SQLiteLedgerStore.open(path: ledgerPath, readOnly: true)
        let trust = try Ledger.open(store: store).trustState()
        var statements: [SignedStatement] = []
        try store.read { reader in
            try reader.forEachEntry(from: 1, to: min(try reader.treeSize(), 1 + count)) { stored in
                let members = try BatchMember.parsing(stored.members)
                statements.append(try LogEntry(parsing: stored.bytes, members: members).signed)
            }
        }
        return microsPerStatement(statements, trust: trust)
    }
}
