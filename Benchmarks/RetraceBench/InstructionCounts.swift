import Foundation
import Synchronization

/// Instructions per appended event and per dock verdict: a figure that does not move with the load
/// other processes put on the machine, so two runs can be compared even when their wall times cannot.
///
/// Hardware counters are the cheap way (`perf stat -e instructions`), but on a VM without a virtual
/// PMU the kernel reports them as `<not supported>` (this machine does). The fallback runs a small
/// fixed phase in a child process (`retrace-bench phase`) under `valgrind --tool=callgrind`, which
/// counts every instruction executed (all threads; valgrind serialises them). Each phase runs twice,
/// with `k` and `2k` units of work, and the difference is divided by `k`, so the setup both runs
/// share (opening the ledger, reading the story, building the heads map) cancels out.
enum InstructionCounts {
    struct Figures: Codable, Sendable {
        /// `perf` (hardware counter) or `callgrind`, or `unavailable`.
        let method: String
        let ledgerEntries: UInt64?
        /// Instructions per appended event, batches of 1,000, sequential (both threads' work).
        let appendPerEvent: Double?
        /// Instructions per statement authenticated (roster lookup and Ed25519 verify through the
        /// wrapper): the part of an append or an audit that no layout or parser change removes.
        let verifyPerStatement: Double?
        /// verifyPerStatement ÷ appendPerEvent: the most the sequential and pipelined append
        /// ratios could reach with every other instruction perfectly overlapped on the cores.
        let signatureShareOfAppend: Double?
        /// Instructions per cold dock verdict of a 20-event probe product.
        let verdictColdPerScan: Double?
        /// Instructions per warm dock verdict of the same products.
        let verdictWarmPerScan: Double?
        let note: String
    }

    /// Whether `perf stat -e instructions` counts on this machine.
    static func perfCounts() -> Bool {
        guard let output = try? run("/usr/bin/perf", ["stat", "-x,", "-e", "instructions", "true"]) else {
            return false
        }
        let line = output.stderr.split(separator: "\n").first { $0.contains("instructions") } ?? ""
        return Double(line.split(separator: ",").first ?? "") != nil
    }

    static func measure(ledger: LedgerCache.Prepared, seed: UInt64, cacheDir: String) -> Figures {
        let perf = perfCounts()
        let counter: (([String]) throws -> Double)?
        let method: String
        if perf {
            method = "perf"
            counter = { try perfInstructions($0) }
        } else if FileManager.default.isExecutableFile(atPath: "/usr/bin/valgrind") {
            method = "callgrind"
            counter = { try callgrindInstructions($0) }
        } else {
            method = "unavailable"
            counter = nil
        }
        guard let counter else {
            return Figures(
                method: method,
                ledgerEntries: nil,
                appendPerEvent: nil,
                verifyPerStatement: nil,
                signatureShareOfAppend: nil,
                verdictColdPerScan: nil,
                verdictWarmPerScan: nil,
                note: "no hardware counters (perf: <not supported>) and no valgrind"
            )
        }
        FileHandle.standardError.write(Data("instruction counts (\(method), a few minutes)…\n".utf8))
        defer {
            strippedCopy.withLock { copy in
                if let made = copy, made != (try? executable()) { try? FileManager.default.removeItem(atPath: made) }
                copy = nil
            }
        }
        let common = ["phase", "--events", "\(ledger.events)", "--seed", "\(seed)", "--cache-dir", cacheDir]
        func difference(_ phase: [String], _ small: Int, _ large: Int) -> Double? {
            guard let a = try? counter(common + phase + ["--count", "\(small)"]),
                let b = try? counter(common + phase + ["--count", "\(large)"])
            else { return nil }
            return (b - a) / Double(large - small)
        }
        let append = difference(["--phase", "append"], 1_000, PhaseChild.appendLoad)
        let verify = difference(["--phase", "verify"], 200, 400)
        let cold = difference(["--phase", "verdict-cold"], 5, 15)
        let coldAndWarm = difference(["--phase", "verdict-warm"], 5, 15)
        return Figures(
            method: method,
            ledgerEntries: ledger.treeSize,
            appendPerEvent: append,
            verifyPerStatement: verify,
            signatureShareOfAppend: zip(verify, append).flatMap { $1 > 0 ? $0 / $1 : nil },
            verdictColdPerScan: cold,
            verdictWarmPerScan: zip(coldAndWarm, cold).map { $0 - $1 },
            note:
                "the smallest ledger of the run; append: (I(2 batches) − I(1 batch)) / 1,000 of the story's next events "
                + "(2,000 loaded and parsed in both runs, so parsing is not counted: the append section does not time it); "
                + "signature: (I(400) − I(200)) / 200 statements of the story authenticated; "
                + "verdicts: (I(15 products) − I(5)) / 10 of the 20-event probe products"
                + (perf ? "" : "; perf stat -e instructions is <not supported> on this VM, so callgrind counts them")
        )
    }

    private static func zip(_ a: Double?, _ b: Double?) -> (Double, Double)? {
        guard let a, let b else { return nil }
        return (a, b)
    }

    static func perfInstructions(_ arguments: [String]) throws -> Double {
        let output = try run("/usr/bin/perf", ["stat", "-x,", "-e", "instructions", try executable()] + arguments)
        guard output.status == 0,
            let line = output.stderr.split(separator: "\n").first(where: { $0.contains("instructions") }),
            let count = Double(line.split(separator: ",").first ?? "")
        else { throw BenchError("perf stat failed: \(output.stderr.suffix(500))") }
        return count
    }

    static func callgrindInstructions(_ arguments: [String]) throws -> Double {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent(
            "retrace-callgrind-\(UUID().uuidString)"
        )
        defer { try? FileManager.default.removeItem(at: out) }
        let output = try run(
            "/usr/bin/valgrind",
            ["--tool=callgrind", "--callgrind-out-file=\(out.path)", try callgrindExecutable()] + arguments
        )
        // "==1234== Collected : 123456789"
        guard output.status == 0,
            let line = output.stderr.split(separator: "\n").first(where: { $0.contains("Collected :") }),
            let count = line.split(separator: " ").last.flatMap({ Double($0) })
        else { throw BenchError("callgrind failed (status \(output.status)): \(output.stderr.suffix(500))") }
        return count
    }

    static func executable() throws -> String {
        try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
    }

    /// This binary without its debug information, made once per run: valgrind 3.19 (Debian 12)
    /// cannot read the DWARF 5 forms of this toolchain and gives up on the whole image ("unhandled
    /// dwarf2 abbrev form code 0x25"), while the symbol table it needs for nothing here survives
    /// `objcopy --strip-debug`. Without objcopy, the binary itself is tried.
    static func callgrindExecutable() throws -> String {
        try strippedCopy.withLock { copy in
            if let copy { return copy }
            let original = try executable()
            let stripped = FileManager.default.temporaryDirectory
                .appendingPathComponent("retrace-bench-nodebug-\(getpid())").path
            guard FileManager.default.isExecutableFile(atPath: "/usr/bin/objcopy"),
                (try? run("/usr/bin/objcopy", ["--strip-debug", original, stripped]))?.status == 0
            else {
                copy = original
                return original
            }
            copy = stripped
            return stripped
        }
    }

    private static let strippedCopy = Mutex<String?>(nil)

    static func run(_ path: String, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read stderr on another thread so neither pipe fills up and blocks the child.
        let errorData = Mutex(Data())
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) {
            let data = err.fileHandleForReading.readDataToEndOfFile()
            errorData.withLock { $0 = data }
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return (
            process.terminationStatus, String(decoding: outData, as: UTF8.self),
            String(decoding: errorData.withLock { $0 }, as: UTF8.self)
        )
    }
}
