import CanonicalJSON
import Foundation
import MerkleLog
import RetraceCrypto
import RetraceMonitor
import Synchronization

/// An auditing witness's extra check: before cosigning, fetch the log's new entries from its
/// `/v1/entries`, check that each is a well-formed Retrace entry and that, appended to the entries
/// audited before, they hash to the checkpoint's root (``LogMonitor``).
///
/// Its cosignature then also says "I have seen every entry up to this size", so a log cannot get
/// a quorum for a tree whose entries it will not show. It checks form and tree, not the
/// lifecycle rules (that is `retrace audit`).
public final class EntryAuditor: Sendable {
    public let url: String
    let client: TlogWitnessClient
    let path: String
    let logKey: NoteVerifier
    private let states: Mutex<[String: LogMonitor.State]>

    /// - Parameters:
    ///   - url: the log's base URL, e.g. `http://127.0.0.1:8080`.
    ///   - path: where the audited position (per origin: size, root, compact range) is kept.
    public init(url: String, logKey: NoteVerifier, path: String) throws {
        self.url = url
        self.client = try TlogWitnessClient(url: url, timeoutSeconds: 60)
        self.path = path
        self.logKey = logKey
        if FileManager.default.fileExists(atPath: path) {
            states = Mutex(
                try JSONDecoder().decode(
                    [String: LogMonitor.State].self,
                    from: Data(contentsOf: URL(fileURLWithPath: path))
                )
            )
        } else {
            states = Mutex([:])
        }
    }

    /// Throws (with the reason) unless the entries up to `checkpoint` check out.
    func audit(note: String, checkpoint: Checkpoint) async throws {
        let held = states.withLock { $0[checkpoint.origin] }
        let monitor = LogMonitor(
            logKey: logKey,
            origin: checkpoint.origin,
            watch: .init(companyPrefixes: [], products: [], keys: [])
        )
        let client = self.client
        @Sendable func json(_ path: String) async throws -> JSONValue {
            let reply = try await client.get(path)
            guard reply.status == 200 else {
                throw TlogWitnessClient.Failure(description: "GET \(path) answered \(reply.status)")
            }
            return try CanonicalJSON.decode(Array(reply.body.utf8))
        }
        let source = LogMonitor.Source(
            checkpoint: { note },
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
        let next: LogMonitor.State
        do { next = try await monitor.run(from: held, source: source) { _ in } } catch let alarm as LogMonitor.Alarm {
            throw TlogWitnessClient.Failure(description: alarm.description)
        }
        let snapshot = states.withLock { states -> [String: LogMonitor.State] in
            if (states[checkpoint.origin]?.size ?? 0) <= next.size { states[checkpoint.origin] = next }
            return states
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try encoder.encode(snapshot).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
