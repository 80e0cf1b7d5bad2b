import ArgumentParser
import CanonicalJSON
import Foundation
import Logging
import LoopbackHTTP
import MerkleLog
import ProcessAllocator
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceLedger
import RetraceServer
import RetraceSimulation
import RetraceStorage
import RetraceVerification
import Synchronization

/// `retrace-load`: drives `retrace serve`'s code from many concurrent loopback clients and prints
/// appends/s and dock-verdict latency, beside the machine's own Ed25519 verify rate measured in the
/// same run. Figures only; nothing is asserted on time, but every verdict answer is checked against
/// the verdict its product's story implies, and a wrong answer fails the run.
@main
struct RetraceLoad: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retrace-load",
        abstract: "Load-test the HTTP service from concurrent loopback clients."
    )

    @Option(help: "Concurrent client connections (comma-separated list to sweep).")
    var clients: String = "1,8,32,64"
    @Option(help: "Statements appended per client count.")
    var appends: Int = 3_000
    @Option(
        help:
            "Statements per append request: 1 posts each to /v1/events; more post arrays of this many to /v1/batches (at most 1,000)."
    )
    var batch: Int = 1
    @Option(
        help:
            "Distinct products scanned per client count (each once cold, then once warm); the ledger gets this many planted-fraud products per client count."
    )
    var verdicts: Int = 500
    @Option(
        name: .customLong("direct-append"),
        help:
            "Instead: append this many statements straight through Ledger.append in batches of 1,000 (no HTTP), for profiling the append path under `perf record`."
    )
    var directAppend: Int?
    @Option(
        help:
            "Drive a server already running on this loopback port (`retrace serve`, any store) instead of one in this process: appends only, no verdicts."
    )
    var port: Int?
    @Option(
        help:
            "Instead: GET these paths (comma-separated; tile paths may end in `{n}`, replaced by successive tile indices) on --port, --requests in all, and print requests/s."
    )
    var get: String?
    @Option(help: "With --get: requests per client count.")
    var requests: Int = 10_000
    @Option(help: "With --get: the tile index that `{n}` runs up to (exclusive); below it, every index in turn.")
    var tiles: Int = 1
    @Flag(help: "Print the figures as one JSON document on stdout (the tables go to stderr).")
    var json = false

    /// What `--json` writes.
    struct Document: Encodable {
        struct Appends: Encodable {
            let clients: Int
            let requests: Int
            /// Statements in each request: 1 for `/v1/events`, more for `/v1/batches`.
            let statementsPerRequest: Int
            /// Statements appended per second (requests × statements per request).
            let appendsPerSecond: Double
            let p50Ms: Double
            let p99Ms: Double
            let commits: Int
            let statementsPerCommit: Double
            let ratioToCoresTimesVerify: Double
        }
        struct Verdicts: Encodable {
            let clients: Int
            /// `cold` (first scan of each product by the service) or `warm` (the same products again).
            let pass: String
            let requests: Int
            let verdictsPerSecond: Double
            let p50Ms: Double
            let p99Ms: Double
            /// Answers whose verdict was not the one the story implies.
            let mismatches: Int
        }
        let verifyPerSecond: Double
        let cores: Int
        /// The process's memory allocator (``ProcessAllocator/description``).
        var allocator = ProcessAllocator.description
        struct Reads: Encodable {
            let path: String
            let clients: Int
            let requests: Int
            let requestsPerSecond: Double
            let p50Ms: Double
            let p99Ms: Double
            let kibPerAnswer: Double
        }
        var appends: [Appends] = []
        var verdicts: [Verdicts] = []
        var reads: [Reads] = []
    }

    func run() throws {
        if let directAppend { return try Self.directAppend(directAppend) }
        guard (1...1_000).contains(batch) else {
            throw ValidationError("--batch is 1 to 1,000 statements per request (the server's batch limit)")
        }
        var documentHandle = FileHandle.standardOutput
        if json {
            fflush(nil)
            let saved = dup(STDOUT_FILENO)
            dup2(STDERR_FILENO, STDOUT_FILENO)
            documentHandle = FileHandle(fileDescriptor: saved, closeOnDealloc: true)
        }
        let clientCounts = clients.split(separator: ",").compactMap { Int($0) }.filter { $0 > 0 }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        if let get {
            guard let port else { throw ValidationError("--get needs --port: the server to read from") }
            var document = Document(verifyPerSecond: 0, cores: cores)
            document.reads = try Self.reads(
                paths: get,
                port: port,
                clientCounts: clientCounts,
                requests: requests,
                tiles: tiles
            )
            return try write(document, to: documentHandle)
        }
        let verify = Self.verifyRate()
        var document = Document(verifyPerSecond: verify, cores: cores)
        print(
            port == nil
                ? "## HTTP service under load (server and clients in one process, 2 cores shared; keep-alive loopback)"
                : "## A server in another process under load (keep-alive loopback, 2 cores shared)"
        )
        print("Ed25519 verify, 1 core (same run): \(Int(verify)) /s; cores × verify = \(Int(verify) * cores) /s")
        print("Allocator: \(document.allocator)")
        print("")
        if let port {
            document.appends = try Self.externalAppends(
                port: port,
                clientCounts: clientCounts,
                appends: appends,
                batch: batch,
                verify: verify
            )
            return try write(document, to: documentHandle)
        }
        let harness = try Harness(fraudProducts: verdicts * clientCounts.count)
        defer { harness.stop() }
        print("Appends: \(Self.describe(batch: batch)), durable (synchronous=FULL) before 201")
        document.appends = try Self.appendRuns(
            port: harness.port,
            clientCounts: clientCounts,
            appends: appends,
            batch: batch,
            verify: verify,
            showsRatio: true,
            firstSerial: 0,
            commission: harness.commission(serial:),
            commits: harness.commits
        )
        print("")
        print(
            "Dock verdicts: POST /v1/verdicts, \(verdicts) distinct planted-fraud products per client count (generated story)."
        )
        print(
            "cold = the service's first scan of each product (its events and signatures not yet verified by this process);"
        )
        print("warm = the same products scanned again. Every answer's verdict is checked against the story's.")
        print("clients   pass   requests   verdicts/s   p50 ms   p99 ms   mismatches")
        var mismatches: [String] = []
        for (index, count) in clientCounts.enumerated() {
            let group = harness.probes[(index * verdicts)..<min(harness.probes.count, (index + 1) * verdicts)]
            let requests = group.map { Request(path: "/v1/verdicts", body: $0.body, expectedVerdict: $0.expected) }
            for pass in ["cold", "warm"] {
                let run = try Self.drive(port: harness.port, clients: count, requests: requests)
                mismatches += run.failureList.prefix(10)
                document.verdicts.append(
                    Document.Verdicts(
                        clients: count,
                        pass: pass,
                        requests: requests.count,
                        verdictsPerSecond: Double(requests.count) / run.seconds,
                        p50Ms: run.p50,
                        p99Ms: run.p99,
                        mismatches: run.failures
                    )
                )
                print(
                    pad(count, 7) + "   " + pass + pad(requests.count, 11)
                        + pad(Int(Double(requests.count) / run.seconds), 13) + pad(run.p50, 9, 2) + pad(run.p99, 9, 2)
                        + pad(run.failures, 13)
                )
            }
        }
        for line in mismatches.prefix(20) { print("MISMATCH \(line)") }
        try write(document, to: documentHandle)
        guard mismatches.isEmpty else {
            throw ValidationError("\(mismatches.count)+ verdict answers were wrong or failed: \(mismatches[0])")
        }
    }

    private func write(_ document: Document, to handle: FileHandle) throws {
        guard json else { return }
        fflush(nil)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        handle.write(try encoder.encode(document) + Data("\n".utf8))
    }

    /// Appends to a server of another process, so the same load reaches `retrace serve` on SQLite
    /// and on PostgreSQL. Commits per request are not known from outside: the server's own
    /// `retrace_group_commits_total` is read before and after from `/metrics`.
    static func externalAppends(
        port: Int,
        clientCounts: [Int],
        appends: Int,
        batch: Int,
        verify: Double
    ) throws
        -> [Document.Appends]
    {
        let parties = try TestParties()
        print("Appends to the server on port \(port): \(describe(batch: batch))")
        // Fresh serials on every run, so a ledger driven twice refuses none as a second commission.
        return try appendRuns(
            port: port,
            clientCounts: clientCounts,
            appends: appends,
            batch: batch,
            verify: verify,
            showsRatio: false,
            firstSerial: Int(Date().timeIntervalSince1970) % 1_000_000 * 1_000,
            commission: { try CanonicalJSON.encode(try Harness.commission(serial: $0, parties: parties).json) },
            commits: { try commits(port: port) }
        )
    }

    /// What each append request carries, for the table's heading.
    static func describe(batch: Int) -> String {
        batch == 1
            ? "POST /v1/events, one signed commission of a fresh serial per request"
            : "POST /v1/batches, \(batch) signed commissions of fresh serials per request, all or nothing"
    }

    /// `appends` statements per client count, `batch` to a request, commissions of serials counting
    /// up from `firstSerial + 1`, against the server on `port`; `commits` reads how many group
    /// commits the server has made so far (before and after each run). Prints the table as it goes.
    static func appendRuns(
        port: Int,
        clientCounts: [Int],
        appends: Int,
        batch: Int,
        verify: Double,
        showsRatio: Bool,
        firstSerial: Int,
        commission: (Int) throws -> [UInt8],
        commits: () throws -> Int
    ) throws -> [Document.Appends] {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        print(
            "clients   requests   appends/s   p50 ms   p99 ms   commits   statements/commit"
                + (showsRatio ? "   ratio to cores×verify" : "")
        )
        var serial = firstSerial
        var rows: [Document.Appends] = []
        for count in clientCounts {
            let statements = try (0..<appends).map { _ -> [UInt8] in
                serial += 1
                return try commission(serial)
            }
            let requests =
                batch == 1
                ? statements.map { Request(path: "/v1/events", body: $0, expectedVerdict: nil) }
                : stride(from: 0, to: statements.count, by: batch).map { start in
                    let items = statements[start..<min(start + batch, statements.count)]
                    let body = Array("[".utf8) + Array(items.joined(separator: Array(",".utf8))) + Array("]".utf8)
                    return Request(path: "/v1/batches", body: body, expectedVerdict: nil)
                }
            let before = try commits()
            let run = try drive(port: port, clients: count, requests: requests)
            guard run.failures == 0 else {
                throw ValidationError("\(run.failures) appends failed: \(run.firstFailure)")
            }
            let made = try commits() - before
            let rate = Double(statements.count) / run.seconds
            let perCommit = Double(statements.count) / Double(max(made, 1))
            let ratio = rate / (verify * Double(cores))
            rows.append(
                Document.Appends(
                    clients: count,
                    requests: requests.count,
                    statementsPerRequest: batch,
                    appendsPerSecond: rate,
                    p50Ms: run.p50,
                    p99Ms: run.p99,
                    commits: made,
                    statementsPerCommit: perCommit,
                    ratioToCoresTimesVerify: ratio
                )
            )
            print(
                pad(count, 7) + pad(requests.count, 11) + pad(Int(rate), 12) + pad(run.p50, 9, 2) + pad(run.p99, 9, 2)
                    + pad(made, 10) + pad(perCommit, 20, 1)
                    + (showsRatio ? "   " + String(format: "%.1f%%", 100 * ratio) : "")
            )
        }
        return rows
    }

    static func commits(port: Int) throws -> Int {
        let response = try LoopbackConnection(port: port, timeoutSeconds: 30).request("GET", "/metrics")
        for line in response.text.split(separator: "\n") where line.hasPrefix("retrace_group_commits_total ") {
            return Int(Double(line.split(separator: " ").last ?? "0") ?? 0)
        }
        throw ValidationError("the server on port \(port) reports no retrace_group_commits_total at /metrics")
    }

    /// GETs of fixed paths (tiles, entry pages) from `clients` keep-alive connections; every answer
    /// must be 200, so a load that only collects errors is never reported as a rate.
    static func reads(
        paths: String,
        port: Int,
        clientCounts: [Int],
        requests: Int,
        tiles: Int
    ) throws
        -> [Document.Reads]
    {
        var rows: [Document.Reads] = []
        print("GETs on port \(port), keep-alive loopback; every answer must be 200")
        print(
            "path                                       clients   requests   requests/s   p50 ms   p99 ms   KiB/answer"
        )
        for template in paths.split(separator: ",").map(String.init) {
            let expanded = (0..<requests).map { index in
                template.replacingOccurrences(of: "{n}", with: Tile.encodeIndex(UInt64(index % max(1, tiles))))
                    .replacingOccurrences(of: "{start}", with: "\(index % max(1, tiles) * 256)")
                    .replacingOccurrences(of: "{end}", with: "\((index % max(1, tiles) + 1) * 256)")
            }
            for count in clientCounts {
                let run = try drive(
                    port: port,
                    clients: count,
                    requests: expanded.map { Request(method: "GET", path: $0, body: [], expectedVerdict: nil) }
                )
                guard run.failures == 0 else {
                    throw ValidationError("\(run.failures) GETs of \(template) failed: \(run.firstFailure)")
                }
                let rate = Double(requests) / run.seconds
                let kib = Double(run.bytes) / Double(max(1, requests)) / 1024
                rows.append(
                    Document.Reads(
                        path: template,
                        clients: count,
                        requests: requests,
                        requestsPerSecond: rate,
                        p50Ms: run.p50,
                        p99Ms: run.p99,
                        kibPerAnswer: kib
                    )
                )
                print(
                    template.padding(toLength: 42, withPad: " ", startingAt: 0) + pad(count, 9) + pad(requests, 11)
                        + pad(Int(rate), 13) + pad(run.p50, 9, 2) + pad(run.p99, 9, 2) + pad(kib, 13, 1)
                )
            }
        }
        return rows
    }

    /// One request a client sends; for a verdict, the verdict its answer must carry.
    struct Request: Sendable {
        var method = "POST"
        let path: String
        let body: [UInt8]
        let expectedVerdict: String?
    }

    /// The append path alone, for a profiler: commissions of fresh serials, batches of 1,000.
    static func directAppend(_ count: Int) throws {
        let harness = try Harness()
        defer { harness.stop() }
        let statements = try (0..<count).map { try harness.signedCommission(serial: 900_000 + $0) }
        let start = DispatchTime.now().uptimeNanoseconds
        var offset = 0
        while offset < statements.count {
            let end = min(statements.count, offset + 1_000)
            try harness.service.ledger.append(Array(statements[offset..<end]))
            offset = end
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        print(
            "direct append: \(count) statements in \(String(format: "%.2f", seconds)) s = \(Int(Double(count) / seconds)) /s"
        )
    }

    struct Run {
        let seconds: Double
        let p50: Double
        let p99: Double
        let failures: Int
        let failureList: [String]
        /// Response body bytes received, all clients.
        var bytes = 0
        var firstFailure: String { failureList.first ?? "" }
    }

    /// The `verdict` field of a verdict answer.
    private struct VerdictAnswer: Decodable { let verdict: String }

    /// Spreads `requests` over `clients` threads, each on one keep-alive connection.
    static func drive(port: Int, clients: Int, requests: [Request]) throws -> Run {
        let latencies = Mutex<[UInt64]>([])
        let failures = Mutex<[String]>([])
        let received = Atomic<Int>(0)
        let start = DispatchTime.now().uptimeNanoseconds
        let group = DispatchGroup()
        for client in 0..<clients {
            group.enter()
            let mine = stride(from: client, to: requests.count, by: clients).map { requests[$0] }
            // A thread per client: the clients block on their sockets, which Dispatch's pool must not do.
            Thread.detachNewThread {
                defer { group.leave() }
                var local: [UInt64] = []
                do {
                    let connection = try LoopbackConnection(port: port, timeoutSeconds: 120)
                    for request in mine {
                        let begin = DispatchTime.now().uptimeNanoseconds
                        let response = try connection.request(
                            request.method,
                            request.path,
                            headers: request.method == "POST" ? [("Content-Type", "application/json")] : [],
                            body: request.method == "POST" ? request.body : nil
                        )
                        local.append(DispatchTime.now().uptimeNanoseconds - begin)
                        received.add(response.body.count, ordering: .relaxed)
                        if response.status >= 300 {
                            failures.withLock { $0.append("\(response.status) \(response.text)") }
                        } else if let expected = request.expectedVerdict {
                            let answer = try? JSONDecoder().decode(VerdictAnswer.self, from: Data(response.body))
                            if answer?.verdict != expected {
                                let got = answer?.verdict ?? "no verdict"
                                let scan = String(decoding: request.body, as: UTF8.self)
                                failures.withLock { $0.append("expected \(expected), got \(got): \(scan)") }
                            }
                        }
                    }
                } catch { failures.withLock { $0.append("\(error)") } }
                latencies.withLock { $0 += local }
            }
        }
        group.wait()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let sorted = latencies.withLock { $0 }.sorted()
        func at(_ q: Double) -> Double {
            sorted.isEmpty ? 0 : Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))]) / 1e6
        }
        let failed = failures.withLock { $0 }
        return Run(
            seconds: seconds,
            p50: at(0.5),
            p99: at(0.99),
            failures: failed.count,
            failureList: failed,
            bytes: received.load(ordering: .relaxed)
        )
    }

    static func verifyRate() -> Double {
        guard let key = try? Ed25519PrivateKey(seed: [UInt8](repeating: 7, count: 32)),
            let signature = try? key.sign([UInt8](repeating: 0x61, count: 420))
        else { return 0 }
        let message = [UInt8](repeating: 0x61, count: 420)
        var count = 0
        let start = DispatchTime.now().uptimeNanoseconds
        while DispatchTime.now().uptimeNanoseconds - start < 2_000_000_000 {
            for _ in 0..<64 where key.publicKey.isValidSignature(signature, for: message) { count += 1 }
        }
        return Double(count) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
}

/// The demo ledger plus a generated story of planted-fraud products, in a temporary directory behind
/// a server on a free loopback port.
final class Harness: @unchecked Sendable {
    let directory: URL
    let parties: TestParties
    let service: LedgerService
    let server: RunningServer
    /// One verdict request per planted-fraud product of the generated story, with the verdict it implies.
    let probes: [(body: [UInt8], expected: String)]
    var port: Int { server.port }
    static let now = DemoStory.start.adding(seconds: 140 * 86_400)

    /// - Parameter fraudProducts: how many products of the generated story are planted frauds, each
    ///   with a dock scan whose verdict its story implies (0 for the direct-append profile).
    init(fraudProducts: Int = 0) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("retrace-load-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        parties = try TestParties()
        let clock: @Sendable () -> Timestamp = { Harness.now }
        let ledger = try Ledger.create(
            store: try SQLiteLedgerStore.create(path: directory.appendingPathComponent("load.sqlite").path),
            origin: TestParties.origin,
            logSigner: parties.log,
            governance: [parties.governance.verifier],
            roster: parties.signedRoster(time: DemoStory.start),
            clock: clock
        )
        _ = try DemoStory.play(on: ledger, parties: parties, progress: nil)
        var scans: [DemoScan] = []
        if fraudProducts > 0 {
            FileHandle.standardError.write(Data("generating \(fraudProducts) planted-fraud products…\n".utf8))
            let config = LedgerGenerator.Configuration(
                products: fraudProducts,
                seed: 15,
                fraudShare: 1,
                batchSize: 1_000,
                serialTag: "L"
            )
            let summary = try LedgerGenerator(configuration: config, parties: parties).run { try ledger.append($0) }
            scans = summary.probes
        }
        probes = try scans.map { scan in
            var request: [String: JSONValue] = [
                "scan": .string(scan.scan), "dock": .string(scan.dock), "now": .string(scan.time.description),
            ]
            if let rma = scan.claimedRMA { request["rma"] = .string(rma) }
            if let digest = scan.claimedOrderDigest { request["orderDigest"] = .string(digest.hex) }
            return (try CanonicalJSON.encode(.object(JSONObject(request))), scan.expectedVerdict)
        }
        var logger = Logger(label: "retrace.load")
        logger.logLevel = .error
        let anchors = TrustAnchors(
            governance: [parties.governance.verifier],
            logKey: parties.log.verifier,
            origin: TestParties.origin
        )
        service = LedgerService(
            ledger: ledger,
            verifier: Verifier(store: ledger.store, anchors: anchors, clock: clock),
            canAppend: true,
            logger: logger
        )
        let server = RetraceServer(
            service: service,
            configuration: ServerConfiguration(host: "127.0.0.1", port: 0),
            logger: logger
        )
        let started = Mutex<RunningServer?>(nil)
        let semaphore = DispatchSemaphore(value: 0)
        Task {
            let running = try? await RunningServer.start(server)
            started.withLock { $0 = running }
            semaphore.signal()
        }
        semaphore.wait()
        guard let running = started.withLock({ $0 }) else { throw ValidationError("the server did not start") }
        self.server = running
    }

    func commission(serial: Int) throws -> [UInt8] {
        try CanonicalJSON.encode(try signedCommission(serial: serial).json)
    }

    func signedCommission(serial: Int) throws -> SignedStatement {
        try Self.commission(serial: serial, parties: parties)
    }

    static func commission(serial: Int, parties: TestParties) throws -> SignedStatement {
        let model = SimulatedModel.phoneX
        let product = try model.product(serial: "LOAD\(serial)")
        return try parties.sign(
            .commission,
            product: product,
            previous: nil,
            by: model.brand,
            at: Harness.now,
            details: [
                "massGrams": .integer(model.massGrams),
                "materials": .object(JSONObject(model.materials.mapValues { JSONValue.integer($0) })),
            ]
        )
    }

    /// Group commits so far, read from the service's own Prometheus text.
    func commits() -> Int {
        let text = String(decoding: service.metrics.exposition(), as: UTF8.self)
        for line in text.split(separator: "\n") where line.hasPrefix("retrace_group_commits_total ") {
            return Int(Double(line.split(separator: " ").last ?? "0") ?? 0)
        }
        return 0
    }

    func stop() {
        let semaphore = DispatchSemaphore(value: 0)
        let server = self.server
        Task {
            await server.stop()
            semaphore.signal()
        }
        semaphore.wait()
        try? FileManager.default.removeItem(at: directory)
    }
}

func pad(_ value: Int, _ width: Int) -> String {
    let text = String(value)
    return String(repeating: " ", count: max(0, width - text.count)) + text
}

func pad(_ value: Double, _ width: Int, _ digits: Int) -> String {
    let text = String(format: "%.\(digits)f", value)
    return String(repeating: " ", count: max(0, width - text.count)) + text
}
