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
            "signature share of CPU"
        )
        for ledger in ledgers {
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
                    signatureShareOfCPU: signature / max(cpuPerEntry, 1e-9)
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
                    Measure.percent(row.signatureShareOfCPU)
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
        return rows
    }

    static func child(_ path: String, threads: Int) throws -> Result {
        let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["audit-child", "--ledger", path, "--threads", "\(threads)"]
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
            cpuNanoseconds: fields["cpuNs"].flatMap(Double.init) ?? 0
        )
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
