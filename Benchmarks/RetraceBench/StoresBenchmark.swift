import ArgumentParser
import Foundation
import RetraceLedger
import RetracePostgres
import RetraceStorage
import RetraceVerification

/// `retrace-bench stores`: the same figures on SQLite and on PostgreSQL in one run, so that the
/// two engines are compared on the same ledger, the same machine and the same minute.
///
/// Each cached ledger is copied into a fresh PostgreSQL schema by `retrace migrate` (built beside
/// retrace-bench), byte for byte, and into a fresh SQLite file; then on each copy: dock verdicts
/// (cold and warm, as ``VerdictBenchmark``), an audit on 2 threads (``AuditBenchmark``'s child),
/// bytes on disk, appends of the story's next events one at a time and in batches of 1,000
/// (``AppendBenchmark``'s mix), and `retrace serve` on the copy driven by `retrace-load`: appends
/// from 64 clients (group commit) and tile and entry-page reads.
struct StoresFigures: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stores",
        abstract: "SQLite beside PostgreSQL: appends, verdicts, audit, bytes, HTTP group commit and tile reads."
    )

    @OptionGroup var options: LedgerOptions

    @Option(help: "A PostgreSQL database for the copies (postgres://user@host:port/db); one new schema per size.")
    var postgres: String

    @Option(help: "The test keys folder (governance.pub, log.pub, log.key) that retrace migrate and serve need.")
    var keys = "keys"

    @Option(help: "Events appended one per transaction.")
    var single = 500

    @Option(help: "Events appended in batches of 1,000 after those.")
    var batched = 10_000

    @Option(help: "HTTP appends from 64 clients.")
    var httpAppends = 3_000

    @Option(help: "GETs per read path from 64 clients.")
    var reads = 5_000

    @Flag(help: "Keep the PostgreSQL schemas and SQLite copies (their names are printed).")
    var keep = false

    /// One engine's figures on one ledger.
    struct Column {
        var store = ""
        var copySeconds: Double?
        var bytes = 0
        var bytesPerEntry = 0
        var verdictCold: (Double, Double) = (0, 0)
        var verdictWarm: (Double, Double) = (0, 0)
        var shortCold: (Double, Double) = (0, 0)
        var shortWarm: (Double, Double) = (0, 0)
        var auditPerSecond = 0.0
        var auditPassed = false
        var singlePerSecond = 0.0
        var singleP50 = 0.0
        var batchedPerSecond = 0.0
        var batchP50 = 0.0
        var http = ""
        var tiles = ""
    }

    func run() throws {
        let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let binaries = (executable as NSString).deletingLastPathComponent
        for tool in ["retrace", "retrace-load"] {
            guard FileManager.default.isExecutableFile(atPath: "\(binaries)/\(tool)") else {
                throw BenchError(
                    "\(binaries)/\(tool) is missing: build it first (swift build -c release --product \(tool))"
                )
            }
        }
        for file in ["governance.pub", "log.pub", "log.key"] {
            guard FileManager.default.fileExists(atPath: "\(keys)/\(file)") else {
                throw BenchError("\(keys)/\(file) is missing: pass --keys, the repository's keys/ folder")
            }
        }
        guard PostgresLedgerStore.isURL(postgres), !postgres.contains("?") else {
            throw BenchError("--postgres takes postgres://user@host:port/database without ?schema=; got \(postgres)")
        }
        print(
            "Retrace stores — SQLite beside PostgreSQL, \(ProcessInfo.processInfo.activeProcessorCount) cores, \(Date())"
        )
        print("Command: retrace-bench \(CommandLine.arguments.dropFirst().joined(separator: " "))")
        print("Load at start: \(Self.uptime())")
        for ledger in try options.ledgers() {
            let story = try Story.after(ledger, seed: options.seed, directory: options.cacheDir)
            let sqlite = try AppendBenchmark.copy(ledger.path)
            let schema = "bench_stores_\(ledger.treeSize)_\(ProcessInfo.processInfo.processIdentifier)"
            let url = "\(postgres)?schema=\(schema)"
            var columns: [Column] = []
            var first = Column(store: "SQLite")
            var second = Column(store: "PostgreSQL")
            FileHandle.standardError.write(Data("copying \(ledger.treeSize) entries into \(url)…\n".utf8))
            second.copySeconds = try Measure.seconds {
                try Self.child(
                    "\(binaries)/retrace",
                    [
                        "migrate", "--from", ledger.path, "--to", url, "--governance-key", "\(keys)/governance.pub",
                        "--log-public-key", "\(keys)/log.pub", "--log-key", "\(keys)/log.key",
                    ]
                )
            }
            for (location, column) in [(sqlite, first), (url, second)] {
                var column = column
                FileHandle.standardError.write(Data("measuring \(column.store) (\(location))…\n".utf8))
                try measure(location, ledger: ledger, story: story, binaries: binaries, into: &column)
                columns.append(column)
            }
            (first, second) = (columns[0], columns[1])
            print(Self.table(ledger: ledger, first, second, single: single, batched: batched))
            print("Load at end: \(Self.uptime())")
            if keep {
                print("kept: \(sqlite) and \(url)")
            } else {
                Workload.remove(sqlite)
                try? PostgresLedgerStore.open(url: url).dropCreated()
            }
        }
    }

    private func measure(
        _ location: String,
        ledger cached: LedgerCache.Prepared,
        story: Story,
        binaries: String,
        into column: inout Column
    ) throws {
        let isPostgres = PostgresLedgerStore.isURL(location)
        func open() throws -> any LedgerStore {
            isPostgres ? try PostgresLedgerStore.open(url: location) : try SQLiteLedgerStore.open(path: location)
        }
        column.bytes =
            isPostgres
            ? try PostgresLedgerStore.open(url: location).bytesOnDisk()
            : LedgerReport.fileBytes(location)
        column.bytesPerEntry = column.bytes / Int(cached.treeSize)

        // Verdicts before anything is appended, so every answer is the one the story implies.
        if !isPostgres { LedgerCache.warmPageCache(location) }
        let verifier = Verifier(store: try open(), anchors: VerdictBenchmark.anchors)
        _ = try verifier.verdict(VerdictBenchmark.request(cached.shortProducts[0]))
        let long = cached.longProducts.map {
            VerdictBenchmark.Scan(
                request: VerdictBenchmark.request($0),
                expected: VerdictBenchmark.expectedLong.rawValue
            )
        }
        let short = cached.shortProducts.dropFirst().map {
            VerdictBenchmark.Scan(
                request: VerdictBenchmark.request($0),
                expected: VerdictBenchmark.expectedShort.rawValue
            )
        }
        for (scans, cold, warm) in [
            (long, \Column.verdictCold, \Column.verdictWarm), (short, \.shortCold, \.shortWarm),
        ] {
            let first = try VerdictBenchmark.scans(scans, verifier)
            var again = VerdictBenchmark.Sample()
            for _ in 0..<VerdictBenchmark.warmPasses { again.add(try VerdictBenchmark.scans(scans, verifier)) }
            let wrong = first.mismatches + again.mismatches
            guard wrong.isEmpty else { throw BenchError("\(wrong.count) wrong verdicts on \(location): \(wrong[0])") }
            column[keyPath: cold] = (first.p50, first.p99)
            column[keyPath: warm] = (again.p50, again.p99)
        }

        let audit = try AuditBenchmark.child(location, threads: 2)
        column.auditPerSecond = audit.entries / audit.seconds
        column.auditPassed = audit.passed

        // Appends continue the story: first one event per transaction, then batches of 1,000.
        let events = Array(story.next.prefix(single + batched))
        guard events.count == single + batched else {
            throw BenchError("the story has \(story.next.count) next events; --single + --batched asks for more")
        }
        let ledger = try Ledger.open(store: try open(), logSigner: Workload.parties.log)
        try ledger.check(Array(events.prefix(1)))
        var samples: [UInt64] = []
        let one = try Measure.seconds {
            for event in events.prefix(single) {
                let start = Measure.now()
                try ledger.append([event])
                samples.append(Measure.now() - start)
            }
        }
        column.singlePerSecond = Double(single) / one
        column.singleP50 = Measure.percentiles(samples).p50
        samples = []
        let rest = Array(events.dropFirst(single))
        let many = try Measure.seconds {
            for offset in stride(from: 0, to: rest.count, by: 1_000) {
                let start = Measure.now()
                try ledger.append(Array(rest[offset..<min(rest.count, offset + 1_000)]))
                samples.append(Measure.now() - start)
            }
        }
        column.batchedPerSecond = Double(rest.count) / many
        column.batchP50 = Measure.percentiles(samples).p50

        // The HTTP service on the same copy, in its own process, driven by retrace-load in another.
        let server = try Self.serve("\(binaries)/retrace", location, logKey: "\(keys)/log.key")
        defer {
            server.process.terminate()
            server.process.waitUntilExit()
        }
        column.http = try Self.child(
            "\(binaries)/retrace-load",
            ["--port", "\(server.port)", "--clients", "64", "--appends", "\(httpAppends)"]
        )
        let tiles = max(1, Int(cached.treeSize / 256))
        column.tiles = try Self.child(
            "\(binaries)/retrace-load",
            [
                "--port", "\(server.port)", "--clients", "64", "--requests", "\(reads)", "--tiles", "\(tiles)",
                "--get", "/tile/0/{n},/tile/entries/{n},/v1/entries?start={start}&end={end}",
            ]
        )
    }

    /// Runs a tool to its end; its standard output is returned, its standard error passed through.
    @discardableResult
    static func child(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw BenchError(
                "\(executable) \(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(text)"
            )
        }
        return text
    }

    /// `retrace serve` on a free port, once it says where it listens.
    static func serve(_ retrace: String, _ location: String, logKey: String) throws -> (process: Process, port: Int) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: retrace)
        process.arguments = ["serve", "--db", location, "--port", "0", "--log-key", logKey, "--log-level", "error"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        var line: [UInt8] = []
        while true {
            let byte = pipe.fileHandleForReading.readData(ofLength: 1)
            guard let first = byte.first else {
                throw BenchError("retrace serve --db \(location) ended before it served")
            }
            if first == UInt8(ascii: "\n") { break }
            line.append(first)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard let colon = text.lastIndex(of: ":"),
            let port = Int(text[text.index(after: colon)...].prefix { $0.isNumber })
        else {
            process.terminate()
            throw BenchError("retrace serve printed \"\(text)\", not the address it serves at")
        }
        return (process, port)
    }

    static func uptime() -> String {
        (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)).map {
            "load average " + $0.split(separator: " ").prefix(3).joined(separator: ", ")
        } ?? "load average unavailable"
    }

    static func table(ledger: LedgerCache.Prepared, _ a: Column, _ b: Column, single: Int, batched: Int) -> String {
        let ms = { (pair: (Double, Double)) in "\(Measure.ms(pair.0)) / \(Measure.ms(pair.1))" }
        let rows: [(String, String, String)] = [
            ("bytes on disk per entry", "\(a.bytesPerEntry)", "\(b.bytesPerEntry)"),
            ("bytes on disk", "\(a.bytes)", "\(b.bytes)"),
            ("copy from the cached SQLite file, s", "-", b.copySeconds.map { Measure.format($0, 1) } ?? "-"),
            ("verdict, 20-event product, cold p50 / p99 ms", ms(a.verdictCold), ms(b.verdictCold)),
            ("verdict, 20-event product, warm p50 / p99 ms", ms(a.verdictWarm), ms(b.verdictWarm)),
            ("verdict, 3-event product, cold p50 / p99 ms", ms(a.shortCold), ms(b.shortCold)),
            ("verdict, 3-event product, warm p50 / p99 ms", ms(a.shortWarm), ms(b.shortWarm)),
            (
                "audit, 2 threads, entries/s", Measure.format(a.auditPerSecond) + (a.auditPassed ? "" : " FAILED"),
                Measure.format(b.auditPerSecond) + (b.auditPassed ? "" : " FAILED")
            ),
            (
                "append, batch 1 (\(single) events), events/s (p50 ms)",
                "\(Measure.format(a.singlePerSecond)) (\(Measure.ms(a.singleP50)))",
                "\(Measure.format(b.singlePerSecond)) (\(Measure.ms(b.singleP50)))"
            ),
            (
                "append, batch 1,000 (\(batched) events), events/s (batch p50 ms)",
                "\(Measure.format(a.batchedPerSecond)) (\(Measure.ms(a.batchP50)))",
                "\(Measure.format(b.batchedPerSecond)) (\(Measure.ms(b.batchP50)))"
            ),
        ]
        var text = "\n## \(ledger.treeSize) entries: SQLite | PostgreSQL\n"
        for (name, left, right) in rows {
            text +=
                name.padding(toLength: 62, withPad: " ", startingAt: 0)
                + left.padding(
                    toLength: 22,
                    withPad: " ",
                    startingAt: 0
                ) + right + "\n"
        }
        text += "\nHTTP, SQLite (retrace serve, retrace-load in its own process):\n\(a.http)\(a.tiles)"
        text += "\nHTTP, PostgreSQL:\n\(b.http)\(b.tiles)"
        return text
    }
}
