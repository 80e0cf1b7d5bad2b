import CanonicalJSON
import Foundation
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceLedger
import RetraceSimulation
import RetraceAudit
import RetraceStorage
import RetraceVerification

/// Dock-verdict latency: a scan parsed, the product's evidence read, every signature, inclusion
/// proof, chain link and lifecycle rule re-verified, and the verdict decided. Measured on ledgers
/// filled with the seeded generator, for products whose chains hold 3 and 20 events.
enum VerdictBenchmark {
    static func run(quick: Bool, baseline: Baseline) throws {
        var audits: [String] = []
        print("\n## Dock verdict (full re-verification of the product's evidence against the latest checkpoint)")
        print("ledger events   chain   scans   p50 ms   p99 ms   verifies per scan   verify-bound ms")
        let sizes = quick ? [10_000] : [10_000, 100_000]
        for size in sizes {
            let (ledger, path) = try Workload.temporaryLedger("verdict-\(size)")
            defer { Workload.remove(path) }
            try fill(ledger, events: size)
            var recorder = ChainRecorder(parties: Workload.parties)
            let short = try (0..<200).map { try SGTIN(gtin: GTIN("09506000134352"), serial: Serial("V3-\($0)")) }
            let long = try (0..<100).map { try SGTIN(gtin: GTIN("09506000134352"), serial: Serial("V20-\($0)")) }
            for product in short { try stock(product, &recorder) }
            for product in long { try longChain(product, &recorder) }
            for chunk in stride(from: 0, to: recorder.statements.count, by: 1_000) {
                try ledger.append(Array(recorder.statements[chunk..<min(recorder.statements.count, chunk + 1_000)]))
            }
            let verifier = Verifier(ledger: ledger)
            let total = try ledger.store.read { try $0.treeSize() }
            for (products, events) in [(short, 3), (long, 20)] {
                var samples: [UInt64] = []
                for product in products {
                    let request = DockRequest(
                        scan: product.digitalLink, rma: nil, orderDigest: nil, dock: "litware", servesRetailers: nil,
                        now: Workload.start.adding(seconds: 200 * 86_400))
                    let start = Measure.now()
                    _ = try verifier.verdict(request)
                    samples.append(Measure.now() - start)
                }
                let (p50, p99) = Measure.percentiles(samples)
                // Signatures checked per scan: the product's events plus the roster; the rest is hashing and SQLite.
                let bound = Double(events + 1) / baseline.verifyPerSecond * 1000
                print(
                    "\(AppendBenchmark.pad(Int(total), 13))   \(AppendBenchmark.pad(events, 5))   "
                        + "\(AppendBenchmark.pad(samples.count, 5))   \(AppendBenchmark.pad(p50, 6))   \(AppendBenchmark.pad(p99, 6))   "
                        + "\(AppendBenchmark.pad(events + 1, 17))   \(AppendBenchmark.pad(bound, 15))")
            }
            let bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            let wal = (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0
            for threads in [1, 2] {
                let auditor = Auditor(
                    trustRoots: [Workload.parties.governance.verifier], logKey: Workload.parties.log.verifier,
                    origin: TestParties.origin, threads: threads)
                var report: AuditReport?
                let seconds = try Measure.seconds { report = try auditor.audit(store: ledger.store) }
                let rate = Double(total) / seconds
                audits.append(
                    "\(AppendBenchmark.pad(Int(total), 13))   \(AppendBenchmark.pad(threads, 7))   \(AppendBenchmark.pad(Int(rate), 9))   "
                        + "\(Measure.format(rate / (Double(threads) * baseline.verifyPerSecond) * 100, 1))%"
                        + "   \(report?.passed == true ? "passed" : "FAILED")   "
                        + "\(Measure.format(Measure.peakMemoryMiB(), 0)) MiB   \((bytes + wal) / Int(total)) B/event")
            }
        }
        print("\n## Audit (every signature, chain link, roster, lifecycle rule, checkpoint; SQLite source)")
        print("ledger events   threads   entries/s   ratio to threads×verify   result   peak RSS (process)   disk")
        for line in audits { print(line) }
    }

    static func fill(_ ledger: Ledger, events: Int) throws {
        let generator = LedgerGenerator(configuration: .forEvents(events, seed: 7), parties: Workload.parties)
        try generator.run { batch in try ledger.append(batch) }
    }

    static let order = Digest.of(Array("bench-order".utf8))

    static func time(_ step: Int) -> Timestamp { Workload.start.adding(seconds: Int64(step) * 3_600) }

    /// Commission, ship to the retailer, receive: a 3-event chain.
    static func stock(_ product: SGTIN, _ recorder: inout ChainRecorder) throws {
        try recorder.record(.commission, product, by: "northwind", at: time(0), details: ["massGrams": .integer(180)])
        try recorder.record(.ship, product, by: "northwind", at: time(1), details: ["consignee": .string("fabrikam")])
        try recorder.record(.receive, product, by: "fabrikam", at: time(2))
    }

    /// A 20-event chain: stocked and sold, then returned, inspected as new, restocked, sent back to
    /// the retailer and sold again, twice, and returned once more.
    static func longChain(_ product: SGTIN, _ recorder: inout ChainRecorder) throws {
        try stock(product, &recorder)
        var step = 3
        func next() -> Timestamp {
            step += 1
            return time(step)
        }
        try recorder.record(.sell, product, by: "fabrikam", at: next(), details: ["orderDigest": .string(order.hex)])
        for round in 0..<2 {
            try returned(product, round: round, &recorder, next)
            try recorder.record(.inspect, product, by: "litware", at: next(), details: ["grade": .string("as-new")])
            try recorder.record(.restock, product, by: "litware", at: next())
            try recorder.record(.ship, product, by: "litware", at: next(), details: ["consignee": .string("fabrikam")])
            try recorder.record(.receive, product, by: "fabrikam", at: next())
            try recorder.record(.sell, product, by: "fabrikam", at: next(), details: ["orderDigest": .string(order.hex)])
        }
        try returned(product, round: 2, &recorder, next)
        try recorder.record(.inspect, product, by: "litware", at: next(), details: ["grade": .string("good")])
    }

    static func returned(
        _ product: SGTIN, round: Int, _ recorder: inout ChainRecorder, _ next: () -> Timestamp
    ) throws {
        let rma = "RMA-\(round)-\(product.serial.value)"
        try recorder.record(
            .returnAuthorize, product, by: "fabrikam", at: next(),
            details: ["rma": .string(rma), "reason": .string("no-longer-needed")])
        try recorder.record(
            .returnReceive, product, by: "litware", at: next(),
            details: ["condition": .string("sealed"), "scanned": .string(product.digitalLink), "rma": .string(rma)])
    }
}
