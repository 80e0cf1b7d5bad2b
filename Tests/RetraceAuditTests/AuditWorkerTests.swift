import Synchronization
import Testing

@testable import RetraceAudit

/// An audit that stops at a failure must not leave a chunk being checked on a worker: the CLI
/// exits right after, and a worker still hashing then crashed it in libcrypto's exit-time cleanup
/// (signal 11 instead of exit 1, in 38 of 60 runs of `retrace audit` on a ledger tampered early).
struct AuditWorkerTests {
    /// The failure is at entry 3, so judging stops almost at once while the second chunk (266
    /// entries) has only just gone to a worker.
    @Test("an audit stopped by a failure in its first chunk returns only after its worker has finished")
    func noWorkerOutlivesAudit() throws {
        #expect(Shared.story.entryCount > UInt64(AuditEngine.chunkSize), "needs a second chunk in flight")
        let path = try Attacker.tamper("stop-early") { db in
            try Attacker.rewrite(db, 3) { $0.replacingOccurrences(of: "\"time\":\"2026", with: "\"time\":\"2027") }
        }
        for threads in [2, 1] {
            var auditor = Shared.auditor(threads: threads)
            let probe = WorkerProbe()
            auditor.probe = probe
            let report = try auditor.audit(store: Shared.open(path))
            #expect(report.firstFailure?.index == 3, "\(report.failures)")
            #expect(probe.running.load(ordering: .acquiring) == 0, "a chunk was still being checked")
        }
    }
}
