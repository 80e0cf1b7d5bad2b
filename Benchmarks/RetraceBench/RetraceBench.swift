import ArgumentParser
import Foundation
import MerkleLog
import ProcessAllocator
import RetraceAudit
import RetraceCrypto
import RetraceLedger
import RetracePostgres
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
        subcommands: [
            Suite.self, Prepare.self, AuditChild.self, PhaseChild.self, InsightsFigures.self, StoresFigures.self,
        ],
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
            "Only these sections, comma-separated: floor, append, verdict, proofs, audit, map, instructions "
                + "(machine limits always run).",
            valueName: "list"
        )
    )
    var only: String?

    @Flag(
        help:
            "Write every figure, ratio and judged target as one JSON document (stdout, or --out); tables go to stderr."
    )
    var json = false

    @Option(help: "With --json: write the document to this file instead of stdout (tables stay on stdout).")
    var out: String?

    @Flag(help: "Also run retrace-load (built beside retrace-bench) with 64 clients for the HTTP appends/s target.")
    var http = false

    func run() throws {
        // With the document on stdout, everything printed for people goes to stderr.
        var documentHandle = FileHandle.standardOutput
        if json, out == nil {
            fflush(nil)
            let saved = dup(STDOUT_FILENO)
            dup2(STDERR_FILENO, STDOUT_FILENO)
            documentHandle = FileHandle(fileDescriptor: saved, closeOnDealloc: true)
        }
        let sections = Set(
            (only ?? "floor,append,verdict,proofs,audit,map,instructions").split(separator: ",").map(String.init)
        )
        // The map and floor sections need no ledger file.
        let ledgers = sections.isSubset(of: ["map", "floor"]) ? [] : try options.ledgers()
        let date = Date()
        print("Retrace benchmarks — \(ProcessInfo.processInfo.activeProcessorCount) cores, \(date)")
        print("Command: retrace-bench \(CommandLine.arguments.dropFirst().joined(separator: " "))")
        print("Allocator: \(ProcessAllocator.description)")
        let first = try Baseline.measure()
        let speed = Baseline.opensslSpeedVerify()
        first.print(opensslSpeed: speed)
        if let speed {
            print("Wrapper ÷ openssl speed: \(Measure.percent(first.verifyPerSecond / speed))")
            print(
                "Ceiling by openssl speed: cores × openssl verify = \(Measure.format(Double(first.cores) * speed)) /s"
            )
        }
        let floor = sections.contains("floor") ? try SignatureFloor.measure() : nil
        floor?.print()
        LedgerReport.print(ledgers)
        var report = BenchReport(
            date: ISO8601DateFormatter().string(from: date),
            command: Array(CommandLine.arguments.dropFirst()),
            quick: options.quick,
            cores: first.cores,
            machine: BenchReport.Machine(
                ed25519Implementation: Ed25519.implementation,
                allocator: ProcessAllocator.description,
                wrapperVerifyPerSecond: first.verifyPerSecond,
                allCoresVerifyPerSecond: first.allCoresVerifyPerSecond,
                coreScaling: first.coreScaling,
                opensslSpeedVerifyPerSecond: speed,
                sha256MBPerSecond: first.sha256MBPerSecond,
                floorVerifyRatios: floor?.rounds.map(\.verifyRatio),
                statementVerifyPerCPUSecond: floor?.statementVerify,
                distinctStatementVerifyPerCPUSecond: floor?.distinctStatementVerify
            )
        )
        report.ledgers = ledgers.map { ledger in
            let bytes = LedgerReport.fileBytes(ledger.path)
            return BenchReport.LedgerFigures(
                generatedEvents: ledger.events,
                entries: ledger.treeSize,
                bytes: bytes,
                bytesPerEntry: bytes / Int(ledger.treeSize),
                generatedSeconds: ledger.generatedSeconds
            )
        }
        let needsStory = !sections.isDisjoint(with: ["append", "verdict"])
        let stories =
            try needsStory
            ? ledgers.map { try Story.after($0, seed: options.seed, directory: options.cacheDir) } : []
        let largest = ledgers.indices.max { ledgers[$0].treeSize < ledgers[$1].treeSize }

        if sections.contains("append"), let largest {
            report.append = try AppendBenchmark.run(
                ledgers[largest],
                story: stories[largest],
                events: AppendBenchmark.events(quick: options.quick),
                opensslSpeed: speed
            )
        }
        if sections.contains("verdict") {
            let local = try Baseline.measure(seconds: 1)
            print("\n(verify rate just before this section: \(Measure.format(local.verifyPerSecond)) /s per core)")
            report.verdicts = try VerdictBenchmark.run(Array(zip(ledgers, stories)), baseline: local)
        }
        if sections.contains("proofs"), let largest {
            try ProofBenchmark.run(ledgers[largest])
        }
        if sections.contains("audit") {
            report.audit = try AuditBenchmark.run(ledgers, opensslSpeed: speed)
        }
        if sections.contains("map") {
            try MapBenchmark.run(
                sizes: options.quick ? [100_000, 1_000_000] : [100_000, 1_000_000, 10_000_000],
                fullUpTo: 1_000_000
            )
        }
        if sections.contains("instructions"), let smallest = ledgers.min(by: { $0.treeSize < $1.treeSize }) {
            _ = try Story.after(smallest, seed: options.seed, directory: options.cacheDir)
            let counts = InstructionCounts.measure(ledger: smallest, seed: options.seed, cacheDir: options.cacheDir)
            report.instructions = counts
            print("\n## Instructions (\(counts.method); do not move with load)")
            let format = { (value: Double?) in value.map { Measure.format($0 / 1e3, 0) + " k" } ?? "unavailable" }
            print("append, per event (batches of 1,000):   \(format(counts.appendPerEvent))")
            print("signature check, per statement:          \(format(counts.verifyPerStatement))")
            if let share = counts.signatureShareOfAppend {
                print(
                    "signature share of an appended event:    \(Measure.percent(share)) "
                        + "(the append ratios' ceiling with everything else overlapped)"
                )
            }
            print("dock verdict, 20-event product, cold:   \(format(counts.verdictColdPerScan))")
            print("dock verdict, 20-event product, warm:   \(format(counts.verdictWarmPerScan))")
            print("(\(counts.note))")
        }
        if http { report.http = LoadRun.run() }
        let last = try Baseline.measure()
        let lastSpeed = Baseline.opensslSpeedVerify()
        report.machine.wrapperVerifyPerSecondAtEnd = last.verifyPerSecond
        report.machine.opensslSpeedVerifyPerSecondAtEnd = lastSpeed
        print("\n## Machine limits again, at the end of the run (the machine is shared: drift shows load)")
        print(
            "Ed25519 verify, 1 core: \(Measure.format(last.verifyPerSecond)) /s (start of run: "
                + "\(Measure.format(first.verifyPerSecond)) /s); openssl speed: "
                + "\(lastSpeed.map { Measure.format($0) } ?? "-") /s; SHA-256: \(Measure.format(last.sha256MBPerSecond)) MB/s"
        )
        print(
            "Ed25519 verify, all \(last.cores) cores at once: \(Measure.format(last.allCoresVerifyPerSecond)) /s "
                + "(\(Measure.format(last.coreScaling, 2)) × one core; start of run: "
                + "\(Measure.format(first.coreScaling, 2)) ×)"
        )
        report.judgeTargets()
        print("\n## Targets (issue 15)")
        var table = Table("target", "value", "goal", "met", "note")
        for target in report.targets {
            table.add(
                target.name,
                target.value.map { Measure.format($0, $0 < 100 ? 2 : 0) + " " + target.unit } ?? "null",
                "\(target.comparison.rawValue) \(Measure.format(target.goal, 0)) \(target.unit)",
                target.met ? "yes" : "no",
                target.note ?? ""
            )
        }
        table.print()
        if json {
            fflush(nil)
            let document = try report.encoded() + Data("\n".utf8)
            if let out {
                try document.write(to: URL(fileURLWithPath: out))
                print("JSON written to \(out)")
            } else {
                documentHandle.write(document)
            }
        }
        let mismatches = report.verdicts?.rows.reduce(0) { $0 + $1.mismatches } ?? 0
        if mismatches > 0 {
            throw BenchError("\(mismatches) dock verdicts differed from what their stories imply (see MISMATCH lines)")
        }
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
    @Flag(help: "Only read every entry in log order and hash it as a Merkle leaf: the audit's floor but signatures.")
    var scanOnly = false
    /// The scan, every other hash the format requires of an audit, then the stored derived rows
    /// read (``AuditWorkFloor``): the audit's floor but signatures.
    @Flag(help: "The scan, the format's other hashes, the stored derived rows read: the audit's floor but signatures.")
    var workFloor = false

    func run() throws {
        let before = Measure.residentKiB()
        if workFloor {
            let store = try SQLiteLedgerStore.open(path: ledger)
            let inputs = try AuditWorkFloor.gather(store)
            var entries = 0
            let used = try Measure.cpu { entries = try AuditWorkFloor.hash(store, inputs) }
            let derived = try Measure.cpu { try AuditWorkFloor.readDerived(store, inputs) }
            report(
                entries: entries,
                passed: true,
                used,
                since: before,
                "derivedCpuNs=\(derived.user + derived.system) checkpoints=\(inputs.checkpoints.count) "
                    + "mapKeys=\(inputs.keys.count) mapLeaves=\(inputs.checkpoints.reduce(0) { $0 + $1.leaves }) "
                    + "mapBranches=\(inputs.checkpoints.reduce(0) { $0 + $1.branches })"
            )
            return
        }
        if scanOnly {
            let store = try SQLiteLedgerStore.open(path: ledger)
            var entries = 0
            let used = try Measure.cpu {
                try store.read { reader in
                    try reader.forEachEntry(from: 0, to: try reader.treeSize()) { entry in
                        if MerkleHash.leafHash(entry.bytes).isEmpty { throw BenchError("empty leaf hash") }
                        entries += 1
                    }
                }
            }
            report(entries: entries, passed: true, used, since: before)
            return
        }
        let auditor = Auditor(
            trustRoots: [Workload.parties.governance.verifier],
            logKey: Workload.parties.log.verifier,
            origin: TestParties.origin,
            threads: threads,
            residentChains: residentChains
        )
        let store: any LedgerStore =
            PostgresLedgerStore.isURL(ledger)
            ? try PostgresLedgerStore.open(url: ledger, readOnly: true) : try SQLiteLedgerStore.open(path: ledger)
        var report: AuditReport?
        let used = try Measure.cpu { report = try auditor.audit(store: store) }
        let passed = report?.passed == true
        self.report(entries: Int(report?.entriesChecked ?? 0), passed: passed, used, since: before)
        if !passed, let failure = report?.firstFailure { FileHandle.standardError.write(Data("\(failure)\n".utf8)) }
    }

    /// The one line the parent reads (`AuditBenchmark.child`): `key=value` pairs, then `extra`.
    private func report(
        entries: Int,
        passed: Bool,
        _ used: (wall: Double, user: UInt64, system: UInt64),
        since startKiB: Int,
        _ extra: String = ""
    ) {
        print(
            "entries=\(entries) seconds=\(used.wall) passed=\(passed) cpuNs=\(used.user + used.system) "
                + "startKiB=\(startKiB) peakKiB=\(Measure.peakKiB()) maxrssKiB=\(Measure.maxRSSKiB()) \(extra)"
        )
    }
}
