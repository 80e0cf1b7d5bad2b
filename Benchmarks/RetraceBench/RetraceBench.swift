import ArgumentParser
import Foundation
import RetraceAudit
import RetraceLedger
import RetraceSimulation
import RetraceStorage

/// Prints Retrace's performance figures beside the machine's own OpenSSL limits.
///
/// Run it in release mode: `swift run -c release retrace-bench` (`--quick` for a smaller run).
/// The generated ledgers are kept under `.bench-cache/` (see ``LedgerCache``), so only the first
/// run pays for generating them.
@main
struct RetraceBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retrace-bench",
        abstract: "Measure Retrace's append, verdict, proof and audit figures on this machine.",
        subcommands: [Suite.self, Prepare.self, AuditChild.self, InsightsFigures.self],
        defaultSubcommand: Suite.self
    )
}

/// Where the ledgers are cached and which sizes to use; shared by the suite and `prepare`.
struct LedgerOptions: ParsableArguments {
    @Flag(help: "Ledgers of 10^4 and 10^5 generated events only, smaller append runs (1–2 minutes once cached).")
    var quick = false

    @Option(
        help: ArgumentHelp(
            "Generated events per ledger, comma-separated (default 10000,100000,1000000).",
            valueName: "n,n,…"
        )
    )
    var sizes: String?

    @Option(help: "Where generated ledgers are kept between runs.")
    var cacheDir = ".bench-cache"

    @Option(help: "The generator's seed.")
    var seed: UInt64 = 7

    func sizeList() throws -> [Int] {
        if let sizes {
            let parsed = sizes.split(separator: ",").map { Int($0.replacingOccurrences(of: "_", with: "")) }
            guard !parsed.isEmpty, parsed.allSatisfy({ ($0 ?? 0) > 0 }) else {
                throw ValidationError("--sizes takes positive whole numbers separated by commas, e.g. 10000,100000")
            }
            return parsed.compactMap { $0 }
        }
        return quick ? [10_000, 100_000] : [10_000, 100_000, 1_000_000]
    }

    /// Each ledger, generated first where the cache has none.
    func ledgers() throws -> [LedgerCache.Prepared] {
        try sizeList().map { events in
            FileHandle.standardError.write(Data("ledger of \(events) generated events…\n".utf8))
            let prepared = try LedgerCache.prepare(events: events, seed: seed, directory: cacheDir)
            if let seconds = prepared.generatedSeconds {
                FileHandle.standardError.write(
                    Data("  generated in \(Measure.format(seconds, 1)) s → \(prepared.path)\n".utf8)
                )
            }
            return prepared
        }
    }
}

/// Generates (or checks) the cached ledgers without measuring anything.
struct Prepare: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Generate the benchmark ledgers into the cache only.")

    @OptionGroup var options: LedgerOptions

    func run() throws {
        for ledger in try options.ledgers() {
            let generated = ledger.generatedSeconds.map { "generated in \(Measure.format($0, 1)) s" } ?? "cached"
            print("\(ledger.path): \(ledger.treeSize) entries, \(generated)")
        }
    }
}

/// Every figure of the suite, in one run.
struct Suite: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the whole suite (the default command)."
    )

    @OptionGroup var options: LedgerOptions

    @Option(
        help: ArgumentHelp(
            "Only these sections, comma-separated: floor, append, verdict, proofs, audit, map (machine limits always run).",
            valueName: "list"
        )
    )
    var only: String?

    func run() throws {
        let sections = Set((only ?? "floor,append,verdict,proofs,audit,map").split(separator: ",").map(String.init))
        // The map section needs no ledger file.
        let ledgers = sections.isSubset(of: ["map", "append", "floor"]) ? [] : try options.ledgers()
        print("Retrace benchmarks — \(ProcessInfo.processInfo.activeProcessorCount) cores, \(Date())")
        print("Command: retrace-bench \(CommandLine.arguments.dropFirst().joined(separator: " "))")
        let first = try Baseline.measure()
        let speed = Baseline.opensslSpeedVerify()
        first.print(opensslSpeed: speed)
        if sections.contains("floor"), let floor = try SignatureFloor.measure() { floor.print() }
        LedgerReport.print(ledgers)

        if sections.contains("append") {
            let local = try Baseline.measure(seconds: 1)
            print("\n(verify rate just before this section: \(Measure.format(local.verifyPerSecond)) /s per core)")
            try AppendBenchmark.run(quick: options.quick, ceiling: local.ceiling)
        }
        if sections.contains("verdict") {
            let local = try Baseline.measure(seconds: 1)
            print("\n(verify rate just before this section: \(Measure.format(local.verifyPerSecond)) /s per core)")
            try VerdictBenchmark.run(ledgers, baseline: local)
        }
        if sections.contains("proofs"), let largest = ledgers.max(by: { $0.treeSize < $1.treeSize }) {
            try ProofBenchmark.run(largest)
        }
        if sections.contains("audit") {
            try AuditBenchmark.run(ledgers, baseline: first)
        }
        if sections.contains("map") {
            try MapBenchmark.run(
                sizes: options.quick ? [100_000, 1_000_000] : [100_000, 1_000_000, 10_000_000],
                fullUpTo: 1_000_000
            )
        }
        let last = try Baseline.measure()
        print("\n## Machine limits again, at the end of the run (the machine is shared: drift shows load)")
        print(
            "Ed25519 verify, 1 core: \(Measure.format(last.verifyPerSecond)) /s (start of run: "
                + "\(Measure.format(first.verifyPerSecond)) /s); SHA-256: \(Measure.format(last.sha256MBPerSecond)) MB/s"
        )
    }
}

/// Hidden: audits one ledger in this fresh process and prints its time and peak memory, so the
/// suite gets each ledger's own audit memory rather than its own process's high-water mark.
struct AuditChild: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit-child",
        abstract: "Audit one ledger and report time and peak memory (internal).",
        shouldDisplay: false
    )

    @Option var ledger: String
    @Option var threads: Int = 1
    /// Product heads the audit keeps in memory (the rest go to its scratch file).
    @Option var residentChains: Int = Auditor.defaultResidentChains

    func run() throws {
        let before = Measure.residentKiB()
        let auditor = Auditor(
            trustRoots: [Workload.parties.governance.verifier],
            logKey: Workload.parties.log.verifier,
            origin: TestParties.origin,
            threads: threads,
            residentChains: residentChains
        )
        let store = try SQLiteLedgerStore.open(path: ledger)
        var report: AuditReport?
        let seconds = try Measure.seconds { report = try auditor.audit(store: store) }
        let passed = report?.passed == true
        print(
            "entries=\(report?.entriesChecked ?? 0) seconds=\(seconds) passed=\(passed) "
                + "startKiB=\(before) peakKiB=\(Measure.peakKiB()) maxrssKiB=\(Measure.maxRSSKiB())"
        )
        if !passed, let failure = report?.firstFailure { FileHandle.standardError.write(Data("\(failure)\n".utf8)) }
    }
}
