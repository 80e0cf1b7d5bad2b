import CanonicalJSON
import Foundation
import LoopbackHTTP
import RetraceAudit
import RetraceEvents
import RetraceLedger
import RetracePostgres
import RetraceSimulation
import RetraceStorage
import RetraceTestSupport
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Several `retrace serve` processes on one PostgreSQL ledger, clients spread over them, instances
/// SIGKILLed and restarted again and again: every acknowledged statement is stored exactly once, no
/// chain forks, and the audit passes. `RETRACE_MULTI_KILLS` sets the number of kills (default 50).
@Suite("Several service instances on one PostgreSQL ledger", .serialized)
struct MultiInstanceTests {
    /// One `retrace serve` child process.
    final class Instance: Sendable {
        let process: Process
        let port: Int

        init(db: String, logKey: String) throws {
            let process = Process()
            process.executableURL = try BuiltExecutable.locate("retrace", override: "RETRACE_BIN")
            process.arguments = ["serve", "--db", db, "--port", "0", "--log-key", logKey, "--log-level", "critical"]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            var bytes: [UInt8] = []
            while let byte = try output.fileHandleForReading.read(upToCount: 1)?.first, byte != 0x0a {
                bytes.append(byte)
            }
            let line = String(decoding: bytes, as: UTF8.self)
            guard let port = Int(line.split(separator: ":").last?.dropLast() ?? "") else {
                process.terminate()
                throw StorageError(.io, "retrace serve did not announce its port: \"\(line)\"")
            }
            self.process = process
            self.port = port
        }

        func kill() {
            Glibc.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    @Test(
        "Three instances, four clients, instances killed repeatedly: nothing acknowledged lost, no fork, audit passes"
    )
    func killInstances() throws {
        guard Backend.postgres.available else { return }
        let kills = Int(ProcessInfo.processInfo.environment["RETRACE_MULTI_KILLS"] ?? "") ?? 50
        let location = try ScratchLocation(.postgres)
        defer { location.remove() }
        let parties = LedgerStoreConformanceTests.parties
        _ = try Ledger.create(
            store: try location.create(),
            origin: TestParties.origin,
            logSigner: parties.log,
            governance: [parties.governance.verifier],
            roster: parties.signedRoster(time: Timestamp(secondsSinceEpoch: 1_704_067_200))
        )
        // The repository's test log key, which the embedded test parties' log key is.
        let logKey = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("keys/log.key").path

        // Independent products, each posted in order by one client; no batch statements (a pallet
        // would tie products of several clients together).
        var configuration = LedgerGenerator.Configuration.forEvents(1_200, seed: 21)
        configuration.cohortSize = 4_096
        let statements = try LedgerGenerator(configuration: configuration, parties: parties).collect()
            .filter { $0.statement.product != nil }
        var partition: [[SignedStatement]] = Array(repeating: [], count: 4)
        var clientOf: [String: Int] = [:]
        for statement in statements {
            let product = statement.statement.product?.digitalLink ?? ""
            let client = clientOf[product] ?? clientOf.count % 4
            clientOf[product] = client
            partition[client].append(statement)
        }
        let byClient = partition

        let instances = Mutex<[Instance]>([])
        for _ in 0..<3 { try instances.withLock { $0.append(try Instance(db: location.db, logKey: logKey)) } }
        defer { for instance in instances.withLock({ $0 }) { instance.kill() } }
        let acknowledged = Mutex<[String]>([])
        let done = Atomic<Int>(0)
        let clientFailures = Mutex<[String]>([])

        let clients = Thread.detachedGroup(count: 4) { client in
            var attempt = 0
            for statement in byClient[client] {
                let body = Array((try? CanonicalJSON.encode(statement.json)) ?? [])
                var stored = false
                var tries = 0
                while !stored {
                    tries += 1
                    if tries > 400 {
                        clientFailures.withLock { $0.append("client \(client): gave up on \(statement.id.hex)") }
                        return
                    }
                    attempt += 1
                    let ports = instances.withLock { $0.map(\.port) }
                    let port = ports[(client + attempt) % ports.count]
                    guard
                        let response = try? loopbackRequest(
                            port: port,
                            "POST",
                            "/v1/events",
                            headers: [("Content-Type", "application/json")],
                            body: body
                        )
                    else {
                        usleep(20_000)
                        continue
                    }
                    switch response.status {
                    case 201:
                        acknowledged.withLock { $0.append(statement.id.hex) }
                        stored = true
                    case 409 where String(decoding: response.body, as: UTF8.self).contains("duplicate"):
                        stored = true  // an earlier attempt committed, its answer was lost with the instance
                    case 500...599:
                        usleep(20_000)
                    default:
                        clientFailures.withLock {
                            $0.append(
                                "client \(client): \(response.status) \(String(decoding: response.body, as: UTF8.self))"
                            )
                        }
                        return
                    }
                }
            }
            _ = done.add(1, ordering: .relaxed)
        }

        // The killer: one instance at a time, at random, restarted on a new port at once.
        var generator = SystemRandomNumberGenerator()
        var killed = 0
        while killed < kills {
            usleep(UInt32.random(in: 50_000...200_000, using: &generator))
            let victim = instances.withLock { $0.remove(at: Int.random(in: 0..<$0.count, using: &generator)) }
            victim.kill()
            killed += 1
            let replacement = try Instance(db: location.db, logKey: logKey)
            instances.withLock { $0.append(replacement) }
        }
        clients.wait()
        #expect(clientFailures.withLock { $0 }.isEmpty, "\(clientFailures.withLock { $0 }.prefix(5))")
        #expect(done.load(ordering: .relaxed) == 4)

        let store = try location.open(readOnly: true)
        let acked = acknowledged.withLock { $0 }
        #expect(acked.count > 0)
        let (size, missing) = try store.read { reader -> (UInt64, [String]) in
            var missing: [String] = []
            for id in acked where try reader.entryIndex(eventID: Array(hexDecoding: id)) == nil { missing.append(id) }
            return (try reader.treeSize(), missing)
        }
        #expect(missing.isEmpty, "acknowledged but not stored: \(missing.prefix(5))")
        // Every statement was stored once (ids are unique in the schema) and nothing else was.
        #expect(size == UInt64(statements.count) + 1)
        let report = try Auditor(
            trustRoots: [parties.governance.verifier],
            logKey: parties.log.verifier,
            origin: TestParties.origin
        ).audit(store: store)
        #expect(report.passed, "\(report.failures.prefix(3))")
        print(
            "multi-instance: \(kills) kills, \(acked.count) acknowledged of \(statements.count) statements, tree size \(size), audit \(report.passed ? "passed" : "FAILED")"
        )
    }
}

extension Array where Element == UInt8 {
    init(hexDecoding text: String) {
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex, let next = text.index(index, offsetBy: 2, limitedBy: text.endIndex) {
            bytes.append(UInt8(text[index..<next], radix: 16) ?? 0)
            index = next
        }
        self = bytes
    }
}

extension Thread {
    /// `count` threads running `body(i)`; `wait()` joins them. Blocking HTTP clients belong on their own
    /// threads, not on the concurrency pool that the test runner shares.
    final class Group: Sendable {
        private let remaining: Mutex<Int>
        private let finished = DispatchSemaphore(value: 0)
        init(count: Int) { remaining = Mutex(count) }
        func leave() {
            if remaining.withLock({
                $0 -= 1
                return $0
            }) == 0 {
                finished.signal()
            }
        }
        func wait() { finished.wait() }
    }

    static func detachedGroup(count: Int, _ body: @escaping @Sendable (Int) -> Void) -> Group {
        let group = Group(count: count)
        for index in 0..<count {
            let thread = Thread {
                body(index)
                group.leave()
            }
            thread.start()
        }
        return group
    }
}
