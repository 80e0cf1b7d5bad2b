import Foundation

/// Whole-ledger audits, each in a fresh child process (`retrace-bench audit-child`), so that the
/// peak memory reported is that audit's own (`VmHWM` of the child), not the suite's high-water mark.
enum AuditBenchmark {
    struct Result {
        let entries: Double
        let seconds: Double
        let passed: Bool
        let startKiB: Double
        let peakKiB: Double
        /// User + system CPU of the audit (all its threads), from the child's `getrusage`.
        let cpuNanoseconds: Double
        /// `--work-floor` only: CPU of reading the stored derived rows after the hashes.
        let derivedCPUNanoseconds: Double?
    }

    /// One audit's figures.
    struct Row: Codable, Sendable {
        let ledgerEntries: UInt64
        let threads: Int
        let entriesPerSecond: Double
        /// The wrapper's 1-core verify rate just before this audit, and just after it.
        let verifyPerSecondBefore: Double
        let verifyPerSecondAfter: Double
        /// entries/s ÷ (threads × the mean of those two rates).
        let ratioToThreadsTimesVerify: Double
        /// entries/s ÷ (threads × `openssl speed ed25519` verify/s of this run).
        let ratioToThreadsTimesOpensslSpeed: Double?
        /// For 2 threads: entries/s ÷ what all cores verified together (``Baseline/allCoresVerifyPerSecond``,
        /// the mean of the samples before and after), the ceiling the cores actually offer; for 1
        /// thread the one-core ratio again.
        let ratioToCoresVerifyingTogether: Double
        let coreScaling: Double
        let cpuMicrosPerEntry: Double
        let passed: Bool
        let childPeakMiB: Double
        let bytesOnDiskPerEntry: Int
        /// CPU per statement of authenticating the ledger's first 2,000 statements on one core,
        /// just before this audit (``SignatureCPU``).
        let signatureMicrosPerEntry: Double
        /// signatureMicrosPerEntry ÷ cpuMicrosPerEntry: the ratio's ceiling with every other
        /// microsecond perfectly overlapped.
        let signatureShareOfCPU: Double
        /// CPU per entry of reading every entry from the store in log order and hashing it as a
        /// Merkle leaf, nothing else (`audit-child --scan-only`): what any audit of this file
        /// must do besides checking the signature.
        let scanMicrosPerEntry: Double?
        /// min(threads ÷ (signature + scan), 1 ÷ scan): the audit's floor on these threads, the
        /// scan being one reader in log order.
        let floorCeilingEntriesPerSecond: Double?
        /// entries/s ÷ ``floorCeilingEntriesPerSecond``.
        let ratioToFloorCeiling: Double?
        /// CPU per entry neither in the signature nor in the scan: the audit's own work (the
        /// strict parse, the rules replayed, the heads map, the stored derived data compared).
        let ownMicrosPerEntry: Double?
        /// CPU per entry of the hashes the format requires besides the leaf's (event ids, tree
        /// nodes, member commitments, heads-map keys, leaves and branches; ``AuditWorkFloor``):
        /// `audit-child --work-floor` less the scan, both alone in a child. Part of the audit's own CPU.
        let requiredHashesMicrosPerEntry: Double?
        /// CPU per entry of reading every stored derived row the audit compares (the tree's nodes,
        /// chain links, product rows) in the audit's ranges, comparing nothing
        /// (``AuditWorkFloor/readDerived(_:_:)``). Part of the audit's own CPU.
        let storedReadMicrosPerEntry: Double?
        /// min(threads ÷ (signature + scan + required hashes + stored rows read), 1 ÷ scan): the
        /// floor of the work this audit must do — every signature, hash and stored byte it checks —
        /// whatever its code.
        let workFloorCeilingEntriesPerSecond: Double?
        /// entries/s ÷ ``workFloorCeilingEntriesPerSecond``.
        let ratioToWorkFloorCeiling: Double?
    }

    static func run(_ ledgers: [LedgerCache.Prepared], opensslSpeed: Double?) throws -> [Row] {
        var rows: [Row] = []
        var table = Table(
            "ledger entries",
            "threads",
            "entries/s",
            "ratio to threads×verify",
            "verify/s before/after",
            "result",
            "child RSS before MiB",
            "child peak MiB",
            "CPU µs/entry",
            "ratio to threads×openssl speed",
            "ratio to the cores verifying together",
            "bytes on disk per entry",
            "signature CPU µs/entry",
            "signature share of CPU",
            "scan CPU µs/entry",
            "ratio to the floor's ceiling",
            "audit's own CPU µs/entry",
            "required hashes CPU µs/entry",
            "stored rows read CPU µs/entry",
            "work floor's ceiling, ratio to threads×verify",
            "ratio to the work floor's ceiling"
        )
        for ledger in ledgers {
            // Read and leaf-hashed once per ledger, in a child like the audits (the page cache is
            // then warm for them as it is for each other).
            let scan = try? child(ledger.path, threads: 1, mode: .scan)
            let scanMicros = scan.map { $0.cpuNanoseconds / 1e3 / max(1, $0.entries) }
            let workFloor = try? child(ledger.path, threads: 1, mode: .workFloor)
            // Never below zero: the two children are timed apart on a shared machine.
            let hashMicros = scanMicros.flatMap { scan in
                workFloor.map { max(0, $0.cpuNanoseconds / 1e3 / max(1, $0.entries) - scan) }
            }
            let storedReadMicros = workFloor.flatMap { floor in
                floor.derivedCPUNanoseconds.map { $0 / 1e3 / max(1, floor.entries) }
            }
            // The work floor's CPU beside the signatures: scan, required hashes, stored rows read.
            let workMicros: Double? =
                if let scanMicros, let hashMicros, let storedReadMicros {
                    scanMicros + hashMicros + storedReadMicros
                } else { nil }
            for threads in [1, 2] {
                // The verify rate just before and just after each audit: the machine is shared and drifts.
                let before = try Baseline.measure(seconds: 1)
                let signature = try SignatureCPU.microsPerStatement(ledgerPath: ledger.path)
                let result = try child(ledger.path, threads: threads)
                let after = try Baseline.measure(seconds: 1)
                let local = Baseline.around(before, after)
                let cpuPerEntry = result.cpuNanoseconds / 1e3 / max(1, result.entries)
                let rate = result.entries / result.seconds
                let together =
                    threads >= local.cores ? local.allCoresVerifyPerSecond : Double(threads) * local.verifyPerSecond
                let ceiling = scanMicros.map { min(Double(threads) * 1e6 / (signature + $0), 1e6 / $0) }
                let workCeiling = scanMicros.flatMap { scan in
                    workMicros.map { min(Double(threads) * 1e6 / (signature + $0), 1e6 / scan) }
                }
                let row = Row(
                    ledgerEntries: ledger.treeSize,
                    threads: threads,
                    entriesPerSecond: rate,
                    verifyPerSecondBefore: before.verifyPerSecond,
                    verifyPerSecondAfter: after.verifyPerSecond,
                    ratioToThreadsTimesVerify: rate / (Double(threads) * local.verifyPerSecond),
                    ratioToThreadsTimesOpensslSpeed: opensslSpeed.map { rate / (Double(threads) * $0) },
                    ratioToCoresVerifyingTogether: rate / together,
                    coreScaling: local.coreScaling,
                    cpuMicrosPerEntry: cpuPerEntry,
                    passed: result.passed,
                    childPeakMiB: result.peakKiB / 1024,
                    bytesOnDiskPerEntry: LedgerReport.fileBytes(ledger.path) / Int(ledger.treeSize),
                    signatureMicrosPerEntry: signature,
                    signatureShareOfCPU: signature / max(cpuPerEntry, 1e-9),
                    scanMicrosPerEntry: scanMicros,
                    floorCeilingEntriesPerSecond: ceiling,
                    ratioToFloorCeiling: ceiling.map { rate / $0 },
                    ownMicrosPerEntry: scanMicros.map { cpuPerEntry - signature - $0 },
                    requiredHashesMicrosPerEntry: hashMicros,
                    storedReadMicrosPerEntry: storedReadMicros,
                    workFloorCeilingEntriesPerSecond: workCeiling,
                    ratioToWorkFloorCeiling: workCeiling.map { rate / $0 }
                )
                rows.append(row)
                table.add(
                    "\(ledger.treeSize)",
                    "\(threads)",
                    Measure.format(rate, 0),
                    Measure.percent(row.ratioToThreadsTimesVerify),
                    Measure.format(before.verifyPerSecond, 0) + "/" + Measure.format(after.verifyPerSecond, 0),
                    result.passed ? "passed" : "FAILED",
                    Measure.format(result.startKiB / 1024, 0),
                    Measure.format(result.peakKiB / 1024, 0),
                    Measure.format(row.cpuMicrosPerEntry, 1),
                    row.ratioToThreadsTimesOpensslSpeed.map(Measure.percent) ?? "-",
                    Measure.percent(row.ratioToCoresVerifyingTogether),
                    "\(row.bytesOnDiskPerEntry)",
                    Measure.format(signature, 1),
                    Measure.percent(row.signatureShareOfCPU),
                    scanMicros.map { Measure.format($0, 1) } ?? "-",
                    row.ratioToFloorCeiling.map(Measure.percent) ?? "-",
                    row.ownMicrosPerEntry.map { Measure.format($0, 1) } ?? "-",
                    hashMicros.map { Measure.format($0, 1) } ?? "-",
                    storedReadMicros.map { Measure.format($0, 1) } ?? "-",
                    workCeiling.map { Measure.percent($0 / (Double(threads) * local.verifyPerSecond)) } ?? "-",
                    row.ratioToWorkFloorCeiling.map(Measure.percent) ?? "-"
                )
            }
        }
        print("\n## Audit (every signature, chain link, roster, lifecycle rule, checkpoint, stored derived value)")
        print("Each audit runs in a child process of its own; peak = that process's VmHWM (Linux): the audit's memory.")
        table.print()
        print(
            "(every ratio is against the mean of 1-second samples just before and just after its audit; the cores "
                + "verifying together: one verifying thread per core; threads × verify assumes the cores add up)"
        )
        print(
            "(scan: every entry read from the store in log order and hashed as a Merkle leaf, alone, in a child; "
                + "the floor's ceiling: min(threads ÷ (signature + scan), 1 ÷ scan); the audit's own CPU: what is "
                + "neither signature nor scan — the strict parse, the rules replayed, the heads map, the stored derived "
                + "data compared)"
        )
        print(
            "(required hashes: every hash the format makes an audit compute besides the leaf's — event ids, the tree's "
                + "nodes, batch member commitments, heads-map keys, the map's leaves and branches at each checkpoint — "
                + "alone over the same entries, less the scan; stored rows read: every stored node, chain link and product "
                + "row the audit compares, read in its ranges, nothing compared; the work floor's ceiling: min(threads ÷ "
                + "(signature + scan + required hashes + stored rows read), 1 ÷ scan): what no audit checking all this "
                + "can exceed, whatever its code)"
        )
        return rows
    }

    /// What an audit child does: the audit, or one of the floors measured beside it.
    enum Mode {
        case audit
        /// `--scan-only`: every entry read in log order and leaf-hashed.
        case scan
        /// `--work-floor`: the scan, the other hashes the format requires, and the stored derived rows
        /// read (``AuditWorkFloor``).
        case workFloor
    }

    static func child(_ path: String, threads: Int, mode: Mode = .audit) throws -> Result {
        let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        let flags =
            switch mode {
            case .audit: [String]()
            case .scan: ["--scan-only"]
            case .workFloor: ["--work-floor"]
            }
        process.arguments = ["audit-child", "--ledger", path, "--threads", "\(threads)"] + flags
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        var fields: [String: String] = [:]
        for pair in text.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
        }
        guard process.terminationStatus == 0, let entries = fields["entries"].flatMap(Double.init),
            let seconds = fields["seconds"].flatMap(Double.init), let peak = fields["peakKiB"].flatMap(Double.init)
        else {
            throw BenchError("the audit child failed (status \(process.terminationStatus)): \(text)")
        }
        return Result(
            entries: entries,
            seconds: seconds,
            passed: fields["passed"] == "true",
            startKiB: fields["startKiB"].flatMap(Double.init) ?? 0,
            peakKiB: peak,
            cpuNanoseconds: fields["cpuNs"].flatMap(Double.init) ?? 0,
            derivedCPUNanoseconds: fields["derivedCpuNs"].flatMap(Double.init)
        )
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
