import Foundation
import RetraceEvents
import RetraceIdentity
import RetraceSimulation
import RetraceStorage
import RetraceVerification

/// Dock-verdict, history and bundle latency on the cached ledgers, for the probe products whose
/// chains hold 3 and 20 events (spread through the log; see ``LedgerCache``).
///
/// One long-lived ``Verifier`` per ledger, as a dock service keeps one: it is warmed with one scan
/// of an unrelated product (the roster and SQLite's page cache), then every probe product is
/// scanned three ways: **cold** (its first scan: every signature of its chain checked), **warm**
/// (scanned again, same checkpoint: signatures already verified for these exact entry bytes under
/// this roster are not checked again; the checkpoint, every inclusion proof, chain link and
/// lifecycle rule are) and **moved head** (warm, but each scan sees a different, newer signed
/// checkpoint: new proofs and one checkpoint signature per scan: what a dock sees on a ledger
/// others keep appending to).
enum VerdictBenchmark {
    static let anchors = TrustAnchors(
        governance: [Workload.parties.governance.verifier],
        logKey: Workload.parties.log.verifier,
        origin: TestParties.origin
    )
    static let now = Workload.start.adding(seconds: 200 * 86_400)
    static let warmPasses = 3

    static func run(_ ledgers: [LedgerCache.Prepared], baseline: Baseline) throws {
        var verdicts = Table(
            "ledger entries",
            "chain",
            "scans c/w",
            "cold p50",
            "cold p99",
            "warm p50",
            "warm p99",
            "moved p50",
            "moved p99",
            "CPU ms cold/warm/moved",
            "sigs cold",
            "sigs warm",
            "sigs moved",
            "cold sigs at 1-core verify"
        )
        var reads = Table(
            "ledger entries",
            "chain",
            "bundle p50",
            "bundle p99",
            "bundle KiB",
            "history cold p50",
            "history cold p99",
            "history warm p50",
            "history warm p99"
        )
        for ledger in ledgers {
            LedgerCache.warmPageCache(ledger.path)
            let store = try SQLiteLedgerStore.open(path: ledger.path)
            let moving = MovingHeadStore(base: store)
            let verifier = Verifier(store: moving, anchors: anchors)
            let warmUp = try SGTIN(gtin: GTIN("09506000134352"), serial: Serial("T-0"))
            _ = try verifier.verdict(request(warmUp))
            for (products, events) in [(ledger.shortProducts, 3), (ledger.longProducts, 20)] {
                let cold = try scans(products, verifier)
                var warm = Sample()
                for _ in 0..<warmPasses { warm.add(try scans(products, verifier)) }
                var moved = Sample()
                var rotation = 0
                for _ in 0..<warmPasses {
                    moved.add(
                        try scans(products, verifier) {
                            moving.pin(ledger.tailCheckpoints[rotation % ledger.tailCheckpoints.count])
                            rotation += 1
                        }
                    )
                }
                moving.pin(nil)
                let bound = cold.signaturesPerScan / baseline.verifyPerSecond * 1_000
                verdicts.add(
                    "\(ledger.treeSize)",
                    "\(events)",
                    "\(cold.count)/\(warm.count)",
                    Measure.ms(cold.p50),
                    Measure.ms(cold.p99),
                    Measure.ms(warm.p50),
                    Measure.ms(warm.p99),
                    Measure.ms(moved.p50),
                    Measure.ms(moved.p99),
                    [cold, warm, moved].map { Measure.format($0.cpuPerScan, 2) }.joined(separator: "/"),
                    Measure.format(cold.signaturesPerScan, 1),
                    Measure.format(warm.signaturesPerScan, 1),
                    Measure.format(moved.signaturesPerScan, 1),
                    Measure.ms(bound) + " ms"
                )
            }
            // Bundles and histories through a second verifier whose caches start empty (roster warmed).
            LedgerCache.warmPageCache(ledger.path)
            let fresh = Verifier(store: store, anchors: anchors)
            _ = try fresh.verdict(request(warmUp))
            for (products, events) in [(ledger.shortProducts, 3), (ledger.longProducts, 20)] {
                var bundle: [UInt64] = []
                var bytes = 0
                for product in products {
                    let start = Measure.now()
                    let encoded = try fresh.bundle(scan: product.digitalLink).encoded()
                    bundle.append(Measure.now() - start)
                    bytes += encoded.count
                }
                var cold: [UInt64] = []
                var warm: [UInt64] = []
                for product in products {
                    let start = Measure.now()
                    let history = try fresh.history(scan: product.digitalLink)
                    cold.append(Measure.now() - start)
                    guard history.events.count == events else {
                        throw SimulationError("\(product.digitalLink): \(history.events.count) events, not \(events)")
                    }
                }
                for _ in 0..<warmPasses {
                    for product in products {
                        let start = Measure.now()
                        _ = try fresh.history(scan: product.digitalLink)
                        warm.append(Measure.now() - start)
                    }
                }
                let b = Measure.percentiles(bundle)
                let c = Measure.percentiles(cold)
                let w = Measure.percentiles(warm)
                reads.add(
                    "\(ledger.treeSize)",
                    "\(events)",
                    Measure.ms(b.p50),
                    Measure.ms(b.p99),
                    Measure.format(Double(bytes) / Double(max(1, products.count)) / 1024, 1),
                    Measure.ms(c.p50),
                    Measure.ms(c.p99),
                    Measure.ms(w.p50),
                    Measure.ms(w.p99)
                )
            }
        }
        print("\n## Dock verdict, ms (evidence read from SQLite and verified against the latest signed checkpoint)")
        print("cold = first scan of the product; warm = scanned again; moved = warm, but a new checkpoint each scan.")
        print("sigs = Ed25519 checks per scan (the product's events; the checkpoint when it is new to the verifier).")
        verdicts.print()
        print("\n## History and bundle, ms (bundle = evidence gathered and encoded, unverified, as served)")
        reads.print()
    }

    static func request(_ product: SGTIN) -> DockRequest {
        DockRequest(
            scan: product.digitalLink,
            rma: nil,
            orderDigest: nil,
            dock: "litware",
            servesRetailers: nil,
            now: now
        )
    }

    struct Sample {
        var samples: [UInt64] = []
        var signatures = 0
        /// Process CPU time (all threads) spent in the scans: the work, whatever the machine's load.
        var cpu: UInt64 = 0
        var count: Int { samples.count }
        var cpuPerScan: Double { Double(cpu) / 1e6 / Double(max(1, samples.count)) }
        var p50: Double { Measure.percentiles(samples).p50 }
        var p99: Double { Measure.percentiles(samples).p99 }
        var signaturesPerScan: Double { Double(signatures) / Double(max(1, samples.count)) }

        mutating func add(_ other: Sample) {
            samples += other.samples
            signatures += other.signatures
            cpu += other.cpu
        }
    }

    /// One verdict per product, timed; `before` runs untimed ahead of each scan.
    static func scans(_ products: [SGTIN], _ verifier: Verifier, before: () -> Void = {}) throws -> Sample {
        var sample = Sample()
        for product in products {
            before()
            let checked = verifier.evidence.statistics.signatureChecks
            let cpu = Measure.cpuNanoseconds()
            let start = Measure.now()
            let verdict = try verifier.verdict(request(product))
            sample.samples.append(Measure.now() - start)
            sample.cpu += Measure.cpuNanoseconds() - cpu
            sample.signatures += verifier.evidence.statistics.signatureChecks - checked
            guard verdict.code != .ledgerIntegrityFailure, verdict.code != .unknownSerial else {
                throw SimulationError("\(product.digitalLink): unexpected verdict \(verdict.code): \(verdict.reasons)")
            }
        }
        return sample
    }
}
