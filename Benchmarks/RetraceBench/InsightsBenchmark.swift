import ArgumentParser
import Foundation
import RetraceAudit
import RetraceInsights
import RetraceSimulation
import RetraceStorage

/// `retrace-bench insights`: the return insights of each cached ledger, folded over a full audit,
/// then refreshed incrementally after the last `--tail` entries (as `retrace serve` does between
/// two requests): an audit since an earlier checkpoint plus the fold of the new events only.
struct InsightsFigures: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "insights",
        abstract: "Time return insights: a full fold, and an incremental refresh."
    )

    @OptionGroup var options: LedgerOptions
    @Option(help: "Entries appended since the previous fold, for the incremental refresh.")
    var tail: UInt64 = 1_000
    @Option(help: "Worker threads for the audit's signature checks (1 or 2).")
    var threads = 2

    func run() throws {
        let ledgers = try options.ledgers()
        print("Retrace insights — \(ProcessInfo.processInfo.activeProcessorCount) cores, \(Date())")
        print("Command: retrace-bench \(CommandLine.arguments.dropFirst().joined(separator: " "))")
        let baseline = try Baseline.measure(seconds: 1)
        print("Ed25519 verify, 1 core: \(Measure.format(baseline.verifyPerSecond)) /s")
        var table = Table(
            "ledger entries",
            "full fold s",
            "events/s",
            "refresh after entries",
            "refresh s",
            "returns",
            "sales",
            "state KB",
            "state save+load s"
        )
        for ledger in ledgers {
            let store = try SQLiteLedgerStore.open(path: ledger.path, readOnly: true)
            let auditor = Auditor(
                trustRoots: [Workload.parties.governance.verifier],
                logKey: Workload.parties.log.verifier,
                origin: TestParties.origin,
                threads: threads
            )
            var full = ReturnInsights()
            let start = Date()
            let report = try auditor.audit(store: store) { full.add($0) }
            let fullSeconds = Date().timeIntervalSince(start)
            guard report.passed else { throw BenchError("the audit of \(ledger.path) failed") }
            // The newest stored checkpoint at least `tail` entries before the end.
            let earlier = try store.read { reader in
                try reader.checkpoints().filter { $0.size + tail <= report.treeSize }.max { $0.size < $1.size }
            }
            var refreshText = "—"
            var refreshSeconds = "—"
            if let earlier {
                var incremental = ReturnInsights()
                let started = Date()
                let since = try auditor.audit(store: store, since: earlier.note) { incremental.add($0) }
                refreshSeconds = Measure.format(Date().timeIntervalSince(started), 2)
                refreshText = "\(report.treeSize - earlier.size)"
                guard since.passed else { throw BenchError("the incremental audit of \(ledger.path) failed") }
            }
            // What `retrace insights --state` keeps between runs, and its cost at each end of a run.
            let statePath = NSTemporaryDirectory() + "retrace-bench-insights-\(UUID().uuidString).json"
            defer { try? FileManager.default.removeItem(atPath: statePath) }
            let note = try store.read { try $0.checkpoint(size: report.treeSize)?.note } ?? ""
            let stateStart = Date()
            try InsightsSnapshot(checkpoint: note, treeSize: report.treeSize, insights: full).save(path: statePath)
            guard let reloaded = try InsightsSnapshot.load(path: statePath), reloaded.insights.returns == full.returns
            else { throw BenchError("the insights state of \(ledger.path) did not read back") }
            let stateSeconds = Date().timeIntervalSince(stateStart)
            let stateBytes = (try? FileManager.default.attributesOfItem(atPath: statePath)[.size] as? Int) ?? 0
            table.add(
                "\(report.treeSize)",
                Measure.format(fullSeconds, 1),
                Measure.format(Double(full.eventsRead) / fullSeconds, 0),
                refreshText,
                refreshSeconds,
                "\(full.returns)",
                "\(full.sales)",
                "\(stateBytes / 1024)",
                Measure.format(stateSeconds, 2)
            )
        }
        print("\n## Return insights (full fold = full audit + figures; refresh = audit since a checkpoint + figures)")
        table.print()
    }
}
