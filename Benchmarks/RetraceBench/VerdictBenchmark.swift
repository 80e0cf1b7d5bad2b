import Foundation
import RetraceEvents
import RetraceIdentity
import RetraceSimulation
import RetraceStorage
import RetraceVerification

/// Dock-verdict, history and bundle latency on the cached ledgers, over many distinct products, each
/// verdict checked against the one its story implies.
///
/// Two sets of products per ledger:
/// - the probe products of ``LedgerCache`` (200 with 3 events: stocked, never sold, so `never-sold`;
///   100 with 20 events: sold, returned and resold twice, returned and inspected, so
///   `already-returned`), spread through the log;
/// - the generator's planted frauds (``Story/probes``: cloned and recycled serials, substitutions,
///   counterfeits, stolen, outside the window…), each with the verdict its story implies.
///
/// One long-lived ``Verifier`` per ledger, as a dock service keeps one: it is warmed with one scan
/// of an unrelated product (the roster, the heads map at the checkpoint, SQLite's page cache), then
/// each product is scanned three ways: **cold** (the first scan of that product: every signature,
/// entry and lower proof node of its chain read and checked; only what every scan shares — the
/// roster, the checkpoint, the heads map, the upper Merkle levels — is already known), **warm**
/// (scanned again, same checkpoint: signatures already verified for these exact entry bytes under
/// this roster are not checked again; the checkpoint, every inclusion proof, chain link and
/// lifecycle rule are) and **moved head** (warm, but the scans see newer and newer signed
/// checkpoints, as on a ledger others keep appending to: one pass through the ledger's 16 tail
/// checkpoints in increasing order). A verifier created afresh per product
/// would also rebuild the heads map (a read of every chain's head) per scan, which no dock does.
///
/// A verdict other than the expected one, or an error, is a mismatch: it is printed, recorded in the
/// JSON, and makes the run exit non-zero.
enum VerdictBenchmark {
    static let anchors = TrustAnchors(
        governance: [Workload.parties.governance.verifier],
        logKey: Workload.parties.log.verifier,
        origin: TestParties.origin
    )
    static let now = Workload.start.adding(seconds: 200 * 86_400)
    static let warmPasses = 3

    /// The verdicts the probe products' stories imply (see ``LedgerCache/stock(_:_:)`` and ``LedgerCache/longChain(_:_:)``).
    static let expectedShort = DockVerdict.Code.neverSold
    static let expectedLong = DockVerdict.Code.alreadyReturned

    /// Figures of one set of products on one ledger.
    struct Row: Codable, Sendable {
        let ledgerEntries: UInt64
        /// `3-event probe products`, `20-event probe products` or `planted frauds`.
        let set: String
        /// Events per product (the mean, for the planted frauds).
        let chain: Double
        let products: Int
        let coldScans: Int
        let warmScans: Int
        let coldP50Ms: Double
        let coldP99Ms: Double
        let warmP50Ms: Double
        let warmP99Ms: Double
        let movedP50Ms: Double?
        let movedP99Ms: Double?
        /// Process CPU (all threads, user + system) per scan.
        let cpuMsCold: Double
        let cpuMsWarm: Double
        let cpuMsMoved: Double?
        let signaturesPerColdScan: Double
        let signaturesPerWarmScan: Double
        /// Verdicts that differed from the story's (or errors), over every scan of the row.
        let mismatches: Int
        /// What the verdicts were: code → count (cold pass).
        let verdicts: [String: Int]
    }

    struct Reads: Codable, Sendable {
        let ledgerEntries: UInt64
        let chain: Int
        let bundleP50Ms: Double
        let bundleP99Ms: Double
        let bundleKiB: Double
        let historyColdP50Ms: Double
        let historyColdP99Ms: Double
        let historyWarmP50Ms: Double
        let historyWarmP99Ms: Double
    }

    struct Result: Codable, Sendable {
        var rows: [Row] = []
        var reads: [Reads] = []
        /// The first mismatches, one line each (product, expected, got).
        var mismatchExamples: [String] = []
    }

    /// A scan to make and the verdict it must get.
    struct Scan {
        let request: DockRequest
        let expected: String
    }

    static func run(_ ledgers: [(LedgerCache.Prepared, Story)], baseline: Baseline) throws -> Result {
        var result = Result()
        var verdicts = Table(
            "ledger entries",
            "set",
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
            "cold sigs at 1-core verify",
            "mismatches"
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
        for (ledger, story) in ledgers {
            LedgerCache.warmPageCache(ledger.path)
            let store = try SQLiteLedgerStore.open(path: ledger.path)
            let moving = MovingHeadStore(base: store)
            let verifier = Verifier(store: moving, anchors: anchors)
            let warmUp = try SGTIN(gtin: GTIN("09506000134352"), serial: Serial("T-0"))
            _ = try verifier.verdict(request(warmUp))
            let frauds = story.probes.map { Scan(request: $0.request, expected: $0.expected) }
            let sets: [(String, [Scan], Bool)] = [
                (
                    "3-event probe products",
                    ledger.shortProducts.map { Scan(request: request($0), expected: expectedShort.rawValue) }, true
                ),
                (
                    "20-event probe products",
                    ledger.longProducts.map { Scan(request: request($0), expected: expectedLong.rawValue) }, true
                ),
                ("planted frauds", frauds, false),
            ]
            for (name, products, rotates) in sets where !products.isEmpty {
                var cold = try scans(products, verifier)
                var warm = Sample()
                for _ in 0..<warmPasses { warm.add(try scans(products, verifier)) }
                var moved: Sample?
                if rotates {
                    // Newer and newer checkpoints, as on a ledger others keep appending to: the tail's
                    // signed checkpoints in increasing order, a few scans each. One untimed scan first
                    // builds the heads map at the oldest of them (the others are then reached by
                    // moving it forward, as a service does when the log grows).
                    let tail = ledger.tailCheckpoints
                    moving.pin(tail[0])
                    _ = try verifier.verdict(request(warmUp))
                    var scanned = 0
                    moved = try scans(products, verifier) {
                        moving.pin(tail[min(tail.count - 1, scanned * tail.count / products.count)])
                        scanned += 1
                    }
                    moving.pin(nil)
                }
                let mismatches = cold.mismatches.count + warm.mismatches.count + (moved?.mismatches.count ?? 0)
                for line in (cold.mismatches + warm.mismatches + (moved?.mismatches ?? [])).prefix(10)
                where result.mismatchExamples.count < 20 {
                    result.mismatchExamples.append("\(ledger.treeSize) entries: \(line)")
                }
                cold.mismatches = []
                let chain = Double(cold.events) / Double(max(1, cold.count))
                let row = Row(
                    ledgerEntries: ledger.treeSize,
                    set: name,
                    chain: chain,
                    products: products.count,
                    coldScans: cold.count,
                    warmScans: warm.count,
                    coldP50Ms: cold.p50,
                    coldP99Ms: cold.p99,
                    warmP50Ms: warm.p50,
                    warmP99Ms: warm.p99,
                    movedP50Ms: moved?.p50,
                    movedP99Ms: moved?.p99,
                    cpuMsCold: cold.cpuPerScan,
                    cpuMsWarm: warm.cpuPerScan,
                    cpuMsMoved: moved?.cpuPerScan,
                    signaturesPerColdScan: cold.signaturesPerScan,
                    signaturesPerWarmScan: warm.signaturesPerScan,
                    mismatches: mismatches,
                    verdicts: cold.codes
                )
                result.rows.append(row)
                let bound = cold.signaturesPerScan / baseline.verifyPerSecond * 1_000
                verdicts.add(
                    "\(ledger.treeSize)",
                    name,
                    Measure.format(chain, 1),
                    "\(cold.count)/\(warm.count)",
                    Measure.ms(cold.p50),
                    Measure.ms(cold.p99),
                    Measure.ms(warm.p50),
                    Measure.ms(warm.p99),
                    moved.map { Measure.ms($0.p50) } ?? "-",
                    moved.map { Measure.ms($0.p99) } ?? "-",
                    ([cold, warm] + (moved.map { [$0] } ?? [])).map { Measure.format($0.cpuPerScan, 2) }
                        .joined(separator: "/"),
                    Measure.format(cold.signaturesPerScan, 1),
                    Measure.format(warm.signaturesPerScan, 1),
                    Measure.ms(bound) + " ms",
                    "\(mismatches)"
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
                let kib = Double(bytes) / Double(max(1, products.count)) / 1024
                result.reads.append(
                    Reads(
                        ledgerEntries: ledger.treeSize,
                        chain: events,
                        bundleP50Ms: b.p50,
                        bundleP99Ms: b.p99,
                        bundleKiB: kib,
                        historyColdP50Ms: c.p50,
                        historyColdP99Ms: c.p99,
                        historyWarmP50Ms: w.p50,
                        historyWarmP99Ms: w.p99
                    )
                )
                reads.add(
                    "\(ledger.treeSize)",
                    "\(events)",
                    Measure.ms(b.p50),
                    Measure.ms(b.p99),
                    Measure.format(kib, 1),
                    Measure.ms(c.p50),
                    Measure.ms(c.p99),
                    Measure.ms(w.p50),
                    Measure.ms(w.p99)
                )
            }
        }
        print("\n## Dock verdict, ms (evidence read from SQLite and verified against the latest signed checkpoint)")
        print(
            "cold = first scan of each distinct product by a running verifier (its events, signatures and lower proof"
        )
        print(
            "nodes not seen before); warm = the same products scanned again; moved = warm, newer checkpoints (16, rising)."
        )
        print("Every verdict is checked against the one the product's story implies; mismatches fail the run.")
        verdicts.print()
        for line in result.mismatchExamples { print("MISMATCH \(line)") }
        print("\n## History and bundle, ms (bundle = evidence gathered and encoded, unverified, as served)")
        reads.print()
        return result
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
        /// Process CPU time (all threads, user + system) spent in the scans: the work, whatever the load.
        var cpu: UInt64 = 0
        /// Events in the verified histories.
        var events = 0
        var codes: [String: Int] = [:]
        var mismatches: [String] = []
        var count: Int { samples.count }
        var cpuPerScan: Double { Double(cpu) / 1e6 / Double(max(1, samples.count)) }
        var p50: Double { Measure.percentiles(samples).p50 }
        var p99: Double { Measure.percentiles(samples).p99 }
        var signaturesPerScan: Double { Double(signatures) / Double(max(1, samples.count)) }

        mutating func add(_ other: Sample) {
            samples += other.samples
            signatures += other.signatures
            cpu += other.cpu
            events += other.events
            mismatches += other.mismatches
            codes.merge(other.codes, uniquingKeysWith: +)
        }
    }

    /// One verdict per scan, timed and checked; `before` runs untimed ahead of each scan.
    static func scans(_ list: [Scan], _ verifier: Verifier, before: () -> Void = {}) throws -> Sample {
        var sample = Sample()
        for scan in list {
            before()
            let stats = verifier.evidence.statistics
            let cpu = Measure.cpuTimes()
            let start = Measure.now()
            let outcome = Swift.Result { try verifier.verdict(scan.request) }
            sample.samples.append(Measure.now() - start)
            let after = Measure.cpuTimes()
            sample.cpu += (after.user + after.system) - (cpu.user + cpu.system)
            let now = verifier.evidence.statistics
            sample.signatures += now.signatureChecks - stats.signatureChecks
            // A first scan checks the signatures ahead on a second core and then takes them from the
            // cache, so an event can count on both sides: the larger of the two is the chain's length.
            sample.events += max(
                now.eventSignatures - stats.eventSignatures,
                now.eventsFromCache - stats.eventsFromCache
            )
            switch outcome {
            case .success(let verdict):
                sample.codes[verdict.code.rawValue, default: 0] += 1
                if verdict.code.rawValue != scan.expected {
                    sample.mismatches.append(
                        "\(scan.request.scan): expected \(scan.expected), got \(verdict.code.rawValue): "
                            + verdict.reasons.prefix(2).joined(separator: "; ")
                    )
                }
            case .failure(let error):
                sample.codes["error", default: 0] += 1
                sample.mismatches.append("\(scan.request.scan): expected \(scan.expected), got an error: \(error)")
            }
        }
        return sample
    }
}
