import CanonicalJSON
import Foundation
import Logging
import LoopbackHTTP
import RetraceAudit
import RetraceEvents
import RetraceIdentity
import RetraceLedger
import RetraceServer
import RetraceSimulation
import RetraceStorage
import RetraceTestSupport
import RetraceVerification
import Testing

extension ServerTests {
    /// The service and the command line appending to the same ledger file at the same time, racing
    /// on the same product chains: SQLite's write lock serialises them, and each append re-reads the
    /// head inside its transaction, so the loser of a race gets a clean conflict (HTTP 409, CLI exit
    /// 1 with a chain conflict) and retries; nothing forks, nothing is lost or stored twice.
    @Suite("Server and CLI appending beside each other")
    struct ServerBesideCLITests {
        static let products = (1...3).map { try! SGTIN(gtin: GTIN("09506000134352"), serial: Serial("SIDE\($0)")) }
        static let rounds = 12

        static func now() -> Timestamp { Timestamp(secondsSinceEpoch: Int64(Date().timeIntervalSince1970)) }

        @Test("HTTP clients and `retrace append` processes race on three chains: no fork, no loss, audit passes")
        func race() async throws {
            let parties = try TestParties()
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "retrace-side-\(UUID().uuidString)"
            )
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let path = directory.appendingPathComponent("ledger.sqlite").path
            let ledger = try Ledger.create(
                store: try SQLiteLedgerStore.create(path: path),
                origin: TestParties.origin,
                logSigner: parties.log,
                governance: [parties.governance.verifier],
                roster: parties.signedRoster(time: Self.now().adding(seconds: -60))
            )
            var logger = Logger(label: "retrace.test.side")
            logger.logLevel = .error
            let service = LedgerService(
                ledger: ledger,
                verifier: Verifier(ledger: ledger),
                canAppend: true,
                logger: logger
            )
            let server = try await RunningServer.start(
                RetraceServer(service: service, configuration: ServerConfiguration(port: 0), logger: logger)
            )
            let reader = try SQLiteLedgerStore.open(path: path, readOnly: true)
            let binary = try CLIBinary.locate()

            async let overHTTP = Self.appendOverHTTP(port: server.port, reader: reader, parties: parties)
            async let overCLI = Self.appendWithCLI(
                binary: binary,
                ledger: path,
                directory: directory,
                reader: reader,
                parties: parties
            )
            let (http, cli) = try await (overHTTP, overCLI)
            await server.stop()

            let acknowledged = http.acknowledged + cli.acknowledged
            #expect(http.acknowledged.count == Self.rounds && cli.acknowledged.count == Self.rounds)
            #expect(Set(acknowledged).count == acknowledged.count, "an id was acknowledged twice")
            let store = try SQLiteLedgerStore.open(path: path, readOnly: true)
            // Every acknowledged statement stored exactly once; nothing stored that nobody acknowledged.
            for id in acknowledged { #expect(try store.read { try $0.entryIndex(eventID: id.bytes) } != nil) }
            #expect(try store.read { try $0.treeSize() } == UInt64(1 + acknowledged.count))
            // Each chain is one line: sequences 0…n-1, every statement's previous is the step before.
            for product in Self.products {
                let links = try store.read { try $0.chain(product.digitalLink) }
                #expect(links.map(\.sequence) == Array(0..<Int64(links.count)))
                for (earlier, later) in zip(links, links.dropFirst()) {
                    let entry = try #require(try store.read { try $0.entry(at: later.index) })
                    #expect(try LogEntry(parsing: entry.bytes).signed.statement.previous?.bytes == earlier.eventID)
                }
            }
            let report = try Auditor(
                trustRoots: [parties.governance.verifier],
                logKey: parties.log.verifier,
                origin: TestParties.origin
            ).audit(store: store)
            #expect(report.passed, "\(report)")
            print("server beside CLI: \(http.retries) HTTP and \(cli.retries) CLI lost races retried cleanly")
        }

        struct Outcome: Sendable {
            var acknowledged: [Digest] = []
            var retries = 0
        }

        static func appendOverHTTP(port: Int, reader: SQLiteLedgerStore, parties: TestParties) async throws -> Outcome {
            try await ServerFixture.offPool {
                var outcome = Outcome()
                var round = 0
                while outcome.acknowledged.count < rounds {
                    let product = products[round % products.count]
                    let head = try reader.read { try $0.head(of: product.digitalLink) }
                    let statement = try RacingStep.next(
                        for: product,
                        head: head,
                        racer: 0,
                        tag: "H\(round)-\(outcome.retries)",
                        at: now(),
                        parties: parties
                    )
                    let response = try loopbackRequest(
                        port: port,
                        "POST",
                        "/v1/events",
                        body: try CanonicalJSON.encode(statement.json)
                    )
                    switch response.status {
                    case 201:
                        outcome.acknowledged.append(statement.id)
                        round += 1
                    case 409 where response.text.contains("chain-conflict"):
                        outcome.retries += 1
                    case 422 where response.text.contains("L2 commission-once"):
                        outcome.retries += 1
                    case 503 where response.text.contains("\"retryable\":true"):
                        outcome.retries += 1
                    default:
                        throw LoopbackErrorForTests(
                            "HTTP append refused uncleanly: \(response.status) \(response.text)"
                        )
                    }
                    guard outcome.retries < 200 else { throw LoopbackErrorForTests("too many lost races over HTTP") }
                }
                return outcome
            }
        }

        static func appendWithCLI(
            binary: URL,
            ledger: String,
            directory: URL,
            reader: SQLiteLedgerStore,
            parties: TestParties
        ) async throws -> Outcome {
            try await ServerFixture.offPool {
                var outcome = Outcome()
                var round = 0
                var last = ""
                while outcome.acknowledged.count < rounds {
                    let product = products[(round + 1) % products.count]
                    let head = try reader.read { try $0.head(of: product.digitalLink) }
                    let statement = try RacingStep.next(
                        for: product,
                        head: head,
                        racer: 1,
                        tag: "C\(round)-\(outcome.retries)",
                        at: now(),
                        parties: parties
                    )
                    let file = directory.appendingPathComponent("statement.jsonl")
                    try Data(try CanonicalJSON.encode(statement.json) + [0x0a]).write(to: file)
                    let (status, output) = try CLIBinary.run(binary, ["append", "--db", ledger, file.path, "--json"])
                    last = output
                    if status == 0 {
                        outcome.acknowledged.append(statement.id)
                        round += 1
                    } else if status == 1,
                        output.contains("not the current head") || output.contains("L2 commission-once")
                            || output.contains("locked")
                    {
                        outcome.retries += 1
                    } else {
                        throw LoopbackErrorForTests("CLI append failed uncleanly (exit \(status)): \(output)")
                    }
                    guard outcome.retries < 200 else {
                        throw LoopbackErrorForTests("too many lost races in the CLI; last: \(last)")
                    }
                }
                return outcome
            }
        }
    }
}

/// The `retrace` executable `swift test` built beside the test bundle.
enum CLIBinary {
    static func locate() throws -> URL { try BuiltExecutable.locate("retrace", override: "RETRACE_BIN") }

    /// Runs the CLI; returns its exit status and standard output and error together.
    static func run(_ binary: URL, _ arguments: [String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
