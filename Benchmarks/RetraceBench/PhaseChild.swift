import ArgumentParser
import Foundation
import RetraceLedger
import RetraceRules
import RetraceStorage
import RetraceVerification

/// Hidden: one fixed phase of the benchmark on a cached ledger and story, for counting its
/// instructions from outside (``InstructionCounts``: under `perf stat` or callgrind). It never
/// generates or signs anything: what it needs must already be in the cache.
struct PhaseChild: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "phase",
        abstract: "Run one fixed benchmark phase on a cached ledger (internal).",
        shouldDisplay: false
    )

    @Option(help: "append, append-pipelined, verify, verdict-cold, verdict-warm or verdict-moved.") var phase: String
    @Option(help: "The cached ledger's generated events.") var events: Int
    @Option var seed: UInt64 = 7
    @Option var cacheDir = ".bench-cache"
    @Option(help: "Events to append (batches of 1,000), signatures to check, or 20-event products to scan.")
    var count: Int

    /// Statements the append phase loads whatever it appends: the larger of the two counts the
    /// instruction section runs it with (``InstructionCounts``).
    static let appendLoad = 2_000

    func run() throws {
        let ledger = try LedgerCache.prepare(events: events, seed: seed, directory: cacheDir, generate: false)
        switch phase {
        case "append", "append-pipelined":
            // Loaded (read and parsed) at one size whatever --count is: the instruction counts take
            // the difference between two counts, which must be appending alone — statements reach
            // `Ledger.append` parsed, and the append section times only that call.
            let loaded = try Story.cachedNext(
                after: ledger,
                seed: seed,
                directory: cacheDir,
                limit: max(count, Self.appendLoad)
            )
            let statements = Array(loaded.prefix(count))
            let path = try AppendBenchmark.copy(ledger.path)
            defer { Workload.remove(path) }
            let appender = try Ledger.open(store: SQLiteLedgerStore.open(path: path), logSigner: Workload.parties.log)
            try appender.check(Array(statements.prefix(1_000)))
            let wallStart = Measure.now()
            let cpuStart = Measure.cpuNanoseconds()
            var batches: [UInt64] = []
            let chunks = stride(from: 0, to: statements.count, by: 1_000).map {
                Array(statements[$0..<min(statements.count, $0 + 1_000)])
            }
            if phase == "append-pipelined" {
                batches = try AppendBenchmark.pipelined(appender, chunks)
            } else {
                for chunk in chunks {
                    let batchStart = Measure.now()
                    try appender.append(chunk)
                    batches.append(Measure.now() - batchStart)
                }
            }
            // On stderr, so that the counts read from this phase (callgrind, perf) see no extra work.
            let wall = Double(Measure.now() - wallStart) / 1e9
            let cpu = Double(Measure.cpuNanoseconds() - cpuStart) / 1e9
            let sorted = batches.sorted().map { Measure.format(Double($0) / 1e6) }
            let summary =
                "appended \(statements.count) events in \(Measure.format(wall, 3)) s, "
                + "\(Measure.format(cpu, 3)) s CPU (\(Measure.format(cpu / wall, 2)) cores busy); "
                + "batch ms min \(sorted.first ?? "-") median \(sorted.isEmpty ? "-" : sorted[sorted.count / 2]) max \(sorted.last ?? "-")"
                + "; in order \(batches.map { Measure.format(Double($0) / 1e6) }.joined(separator: " "))\n"
            FileHandle.standardError.write(Data(summary.utf8))
        case "verify":
            // What one appended or audited statement cannot avoid: its signer's key looked up in
            // the roster and its Ed25519 signature checked through the wrapper, as the append does.
            let statements = try Story.cachedNext(after: ledger, seed: seed, directory: cacheDir, limit: 1_000)
            let appender = try Ledger.open(store: SQLiteLedgerStore.open(path: ledger.path))
            let trust = try appender.trustState()
            var checked = 0
            for round in 0..<count {
                let signed = statements[round % statements.count]
                if signed.statement.type != .roster, (try? trust.authenticate(signed)) != nil { checked += 1 }
            }
            guard checked > 0 else { throw BenchError("no statement of the story authenticated") }
        case "verdict-cold", "verdict-warm":
            let verifier = Verifier(
                store: try SQLiteLedgerStore.open(path: ledger.path),
                anchors: VerdictBenchmark.anchors
            )
            _ = try verifier.verdict(VerdictBenchmark.request(try LedgerCache.shortProducts()[0]))
            let products = ledger.longProducts.prefix(count)
            for _ in 0..<(phase == "verdict-warm" ? 2 : 1) {
                for product in products {
                    let verdict = try verifier.verdict(VerdictBenchmark.request(product))
                    guard verdict.code == VerdictBenchmark.expectedLong else {
                        throw BenchError(
                            "\(product.digitalLink): \(verdict.code), not \(VerdictBenchmark.expectedLong)"
                        )
                    }
                }
            }
        case "verdict-moved":
            // As the verdict benchmark's moved-head column: warm scans against newer and newer tail
            // checkpoints, after one scan has built the heads map at the oldest of them.
            let moving = MovingHeadStore(base: try SQLiteLedgerStore.open(path: ledger.path))
            let verifier = Verifier(store: moving, anchors: VerdictBenchmark.anchors)
            let products = Array(ledger.longProducts.prefix(count))
            for product in products { _ = try verifier.verdict(VerdictBenchmark.request(product)) }
            let tail = ledger.tailCheckpoints
            moving.pin(tail[0])
            _ = try verifier.verdict(VerdictBenchmark.request(try LedgerCache.shortProducts()[0]))
            for (scanned, product) in products.enumerated() {
                moving.pin(tail[min(tail.count - 1, scanned * tail.count / products.count)])
                let verdict = try verifier.verdict(VerdictBenchmark.request(product))
                guard verdict.code == VerdictBenchmark.expectedLong else {
                    throw BenchError("\(product.digitalLink): \(verdict.code), not \(VerdictBenchmark.expectedLong)")
                }
            }
        default:
            throw ValidationError("--phase is append, verify, verdict-cold, verdict-warm or verdict-moved")
        }
    }
}
