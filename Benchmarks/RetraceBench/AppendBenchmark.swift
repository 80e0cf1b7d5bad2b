import Foundation
import RetraceEvents
import RetraceLedger
import Synchronization

/// Append throughput: durable, every signature verified on append, one checkpoint per batch.
enum AppendBenchmark {
    static func run(quick: Bool, ceiling: Double) throws {
        print(
            "\n## Append (durable: synchronous=FULL; signature, roster, chain and lifecycle checked; checkpoint per batch)"
        )
        print("batch    events   events/s   batch p50 ms   batch p99 ms   ratio to cores×verify")
        let plans: [(batch: Int, events: Int)] =
            quick ? [(1, 100), (100, 2_000), (1_000, 5_000)] : [(1, 500), (100, 10_000), (1_000, 50_000)]
        for plan in plans {
            let statements = try Workload.commissions(plan.events, serialPrefix: "B\(plan.batch)-")
            let (ledger, path) = try Workload.temporaryLedger("append-\(plan.batch)")
            defer { Workload.remove(path) }
            var samples: [UInt64] = []
            let total = try Measure.seconds {
                var offset = 0
                while offset < statements.count {
                    let batch = Array(statements[offset..<min(statements.count, offset + plan.batch)])
                    let start = Measure.now()
                    try ledger.append(batch)
                    samples.append(Measure.now() - start)
                    offset += plan.batch
                }
            }
            let rate = Double(statements.count) / total
            let (p50, p99) = Measure.percentiles(samples)
            print(
                "\(pad(plan.batch, 5))  \(pad(plan.events, 8))  \(pad(Int(rate), 9))   \(pad(p50, 12))   \(pad(p99, 12))   "
                    + "\(Measure.format(rate / ceiling * 100, 1))%"
            )
        }
        try pipelined(events: quick ? 5_000 : 50_000, batch: 1_000, ceiling: ceiling)
    }

    /// Batches of 1,000 with the next batch's signatures checked (``Ledger/prepare(_:)``, on all
    /// cores) while the current one commits, as the HTTP service's sequencer does: verification
    /// and the sequential commit overlap instead of alternating.
    static func pipelined(events: Int, batch size: Int, ceiling: Double) throws {
        let statements = try Workload.commissions(events, serialPrefix: "P\(size)-")
        let (ledger, path) = try Workload.temporaryLedger("append-pipelined")
        defer { Workload.remove(path) }
        let batches = stride(from: 0, to: statements.count, by: size).map {
            Array(statements[$0..<min(statements.count, $0 + size)])
        }
        var samples: [UInt64] = []
        let total = try Measure.seconds {
            var current = ledger.prepare(batches[0])
            for index in batches.indices {
                let next = Mutex<Ledger.PreparedBatch?>(nil)
                let group = DispatchGroup()
                if index + 1 < batches.count {
                    let upcoming = batches[index + 1]
                    DispatchQueue.global().async(group: group) {
                        let prepared = ledger.prepare(upcoming)
                        next.withLock { $0 = prepared }
                    }
                }
                let start = Measure.now()
                _ = try ledger.append(prepared: [current])[0].get()
                samples.append(Measure.now() - start)
                group.wait()
                if let prepared = next.withLock({ $0 }) { current = prepared }
            }
        }
        let rate = Double(statements.count) / total
        let (p50, p99) = Measure.percentiles(samples)
        print(
            "\(pad(size, 5))p \(pad(events, 8))  \(pad(Int(rate), 9))   \(pad(p50, 12))   \(pad(p99, 12))   "
                + "\(Measure.format(rate / ceiling * 100, 1))%   (p: next batch verified while this one commits)"
        )
    }

    static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: " ", count: max(0, width - text.count)) + text
    }

    static func pad(_ value: Double, _ width: Int) -> String {
        let text = Measure.format(value, 2)
        return String(repeating: " ", count: max(0, width - text.count)) + text
    }
}
