import ArgumentParser
import CanonicalJSON
import Foundation
import MerkleLog
import RetraceCrypto
import RetraceIdentity
import RetraceLedger
import RetraceMonitor
import RetraceStorage
import RetraceWitnessService

/// `retrace monitor`: one incremental pass over a ledger (file or server) from the checkpoint saved
/// in `--state`, printing JSON lines for new events about what is watched (spec/witness.md §8).
struct MonitorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "monitor",
        abstract:
            "Follow a ledger from a saved checkpoint: verify every new entry, report watched events as JSON lines.",
        discussion: """
            Exit 0 after a clean pass (state advanced); exit 1 when the log rolled back, showed an \
            inconsistent tree or served an entry that does not check out (reported as a JSON line, \
            state kept); exit 2 when the log cannot be read.
            """
    )

    @Option(help: "The ledger file to follow (SQLite).")
    var db: String?
    @Option(
        help:
            "The server to follow, e.g. http://127.0.0.1:8080 (reads /checkpoint, /v1/proofs/consistency, /v1/entries)."
    )
    var url: String?
    @Option(name: .long, help: "The monitor's state file (created on the first run).")
    var state: String
    @Option(name: .customLong("log-key"), help: "The log public key file (NAME.pub) checkpoints must be signed with.")
    var logKey: String
    @Option(help: "The log's origin (default: the one in the state, else any).")
    var origin: String?
    @Option(name: .customLong("watch-prefix"), help: "A GS1 company prefix to watch (repeatable).")
    var watchPrefix: [String] = []
    @Option(name: .customLong("watch-product"), help: "A product to watch, in any identity form (repeatable).")
    var watchProduct: [String] = []
    @Option(name: .customLong("watch-key"), help: "A signing public key file (NAME.pub) to watch (repeatable).")
    var watchKey: [String] = []

    func validate() throws {
        guard (db == nil) != (url == nil) else { throw ValidationError("give exactly one of --db or --url") }
        for prefix in watchPrefix
        where prefix.isEmpty || !prefix.allSatisfy(\.isASCII) || !prefix.allSatisfy(\.isNumber) {
            throw ValidationError("--watch-prefix \"\(prefix)\" is not a string of digits")
        }
    }

    func run() async throws {
        let key = try LedgerAccess.readPublicKey(logKey, what: "log key")
        let products = Set(try watchProduct.map { try LedgerAccess.parseIdentity($0).sgtin.digitalLink })
        let keys = try watchKey.map { try LedgerAccess.readPublicKey($0, what: "watched key") }
        let monitor = LogMonitor(
            logKey: key,
            origin: origin,
            watch: .init(companyPrefixes: watchPrefix, products: products, keys: keys)
        )
        var saved: LogMonitor.State?
        if FileManager.default.fileExists(atPath: state) {
            do {
                saved = try JSONDecoder().decode(
                    LogMonitor.State.self,
                    from: Data(contentsOf: URL(fileURLWithPath: state))
                )
            } catch {
                throw CLIError.usage("the monitor state \(state) is not readable: \(error)")
            }
        }
        let source = try makeSource()
        let next: LogMonitor.State
        do {
            next = try await monitor.run(from: saved, source: source) { line in try Output.json(line) }
        } catch let alarm as LogMonitor.Alarm {
            try Output.json(alarm.json)
            throw ExitCode(CLIError.refused)
        } catch let error as CLIError {
            throw error
        } catch {
            throw CLIError.usage("cannot read the log: \(error)")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let temporary = state + ".tmp"
        try encoder.encode(next).write(to: URL(fileURLWithPath: temporary))
        guard rename(temporary, state) == 0 else { throw CLIError.usage("cannot write the monitor state \(state)") }
    }

    private func makeSource() throws -> LogMonitor.Source {
        if let db {
            let ledger = try LedgerAccess.openReadOnly(db)
            let store = ledger.store
            return LogMonitor.Source(
                checkpoint: {
                    guard let note = try store.read({ try $0.latestCheckpoint()?.note }) else {
                        throw CLIError.usage("\(db) has no checkpoint")
                    }
                    return note
                },
                consistencyProof: { from, to in
                    try store.read { try MerkleTree.consistencyProof(from: from, to: to, reader: $0) }
                },
                leaves: { from, to in
                    try store.read { reader in
                        var leaves: [LogMonitor.Leaf] = []
                        try reader.forEachEntry(from: from, to: from + min(to - from, 1_000)) { entry in
                            leaves.append(.init(index: entry.index, bytes: entry.bytes, members: entry.members))
                        }
                        return leaves
                    }
                }
            )
        }
        let client: TlogWitnessClient
        do { client = try TlogWitnessClient(url: url ?? "", timeoutSeconds: 60) } catch {
            throw CLIError.usage("--url: \(error.description)")
        }
        @Sendable func json(_ path: String) async throws -> JSONValue {
            let reply = try await client.get(path)
            guard reply.status == 200 else {
                throw CLIError.usage("GET \(path) answered \(reply.status): \(reply.body.prefix(200))")
            }
            return try CanonicalJSON.decode(Array(reply.body.utf8))
        }
        return LogMonitor.Source(
            checkpoint: {
                let reply = try await client.get("/checkpoint")
                guard reply.status == 200 else { throw CLIError.usage("GET /checkpoint answered \(reply.status)") }
                return reply.body
            },
            consistencyProof: { from, to in
                let proof = try await json("/v1/proofs/consistency?from=\(from)&to=\(to)")
                return (proof["proof"]?.arrayValue ?? []).compactMap { $0.stringValue.flatMap(Hex.decode) }
            },
            leaves: { from, to in
                let page = try await json("/v1/entries?start=\(from)&end=\(to)")
                return (page["entries"]?.arrayValue ?? []).compactMap { item -> LogMonitor.Leaf? in
                    guard let index = item["index"]?.integerValue,
                        let bytes = item["entry"]?.stringValue.flatMap(Base64.decode)
                    else { return nil }
                    let members = (item["members"]?.arrayValue ?? []).compactMap {
                        $0.stringValue.flatMap(Base64.decode)
                    }
                    return .init(index: UInt64(index), bytes: bytes, members: members)
                }
            }
        )
    }
}
