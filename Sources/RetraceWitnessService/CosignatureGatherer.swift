import Foundation
import Logging
import MerkleLog
import RetraceCrypto
import RetraceWitness
import Synchronization

/// The log's side of witnessing: after each commit, sends the newest signed checkpoint to every
/// witness of the policy (C2SP tlog-witness), keeps the cosignatures that verify, and publishes
/// the cosigned checkpoint.
///
/// Gathering runs beside the append path, never in it: ``checkpointSigned()`` only raises a flag,
/// one background task at a time gathers for the newest checkpoint, and a commit that lands while
/// it runs is picked up by the next round. So an acknowledged append never waits for a witness;
/// only publication (``published``) does, and only when the policy's quorum is required.
public final class CosignatureGatherer: Sendable {
    /// What the gatherer needs from the ledger, as functions so it does not depend on storage.
    public struct Log: Sendable {
        /// The newest signed checkpoint note.
        public let latest: @Sendable () throws -> String?
        /// RFC 9162 consistency proof between two sizes of the log.
        public let consistencyProof: @Sendable (_ from: UInt64, _ to: UInt64) throws -> [[UInt8]]
        public let logKey: NoteVerifier

        public init(
            latest: @escaping @Sendable () throws -> String?,
            consistencyProof: @escaping @Sendable (UInt64, UInt64) throws -> [[UInt8]],
            logKey: NoteVerifier
        ) {
            self.latest = latest
            self.consistencyProof = consistencyProof
            self.logKey = logKey
        }
    }

    private struct State {
        var running = false
        var pending = false
        /// Per witness (policy name): the size it told us it holds.
        var witnessSizes: [String: UInt64] = [:]
        /// The newest cosigned note and whether it met the quorum.
        var cosigned: (note: String, size: UInt64, quorum: Bool)?
        /// The newest note that met the quorum.
        var witnessed: String?
        var rounds = 0
    }

    public let policy: WitnessPolicy
    public let log: Log
    /// Where the newest cosigned checkpoint is kept (a text file beside the ledger), so a restart
    /// serves it at once.
    public let path: String
    let clients: [(name: String, key: CosignerVerifier, client: TlogWitnessClient)]
    let logger: Logger
    private let state = Mutex(State())

    public init(policy: WitnessPolicy, log: Log, path: String, logger: Logger) throws {
        self.policy = policy
        self.log = log
        self.path = path
        self.logger = logger
        var clients: [(String, CosignerVerifier, TlogWitnessClient)] = []
        for witness in policy.witnesses {
            guard let url = witness.url else {
                throw WitnessError(.malformedPolicy, "witness \(witness.name) has no URL; the log needs one to ask it")
            }
            do { clients.append((witness.name, witness.key, try TlogWitnessClient(url: url))) } catch {
                throw WitnessError(.malformedPolicy, "witness \(witness.name): \(error.description)")
            }
        }
        self.clients = clients
        if let text = try? String(contentsOfFile: path, encoding: .utf8),
            let witnessed = try? WitnessedCheckpoint(note: text, policy: policy, logKeys: [log.logKey])
        {
            state.withLock { state in
                state.cosigned = (text, witnessed.checkpoint.size, witnessed.quorumMet)
                if witnessed.quorumMet { state.witnessed = text }
            }
        }
    }

    /// The checkpoint to publish: the newest cosigned one with a quorum, or `nil` if none has one.
    public var witnessed: String? { state.withLock { $0.witnessed } }

    /// The newest cosigned note (quorum or not) and its size.
    public var cosigned: (note: String, size: UInt64)? { state.withLock { $0.cosigned.map { ($0.note, $0.size) } } }

    /// How many gathering rounds finished (for tests and metrics).
    public var rounds: Int { state.withLock { $0.rounds } }

    /// Called after a checkpoint is signed; returns at once.
    public func checkpointSigned() {
        let start = state.withLock { state -> Bool in
            if state.running {
                state.pending = true
                return false
            }
            state.running = true
            return true
        }
        guard start else { return }
        Task.detached { await self.loop() }
    }

    /// The first wait before asking again witnesses that did not cosign the newest checkpoint;
    /// it doubles up to ``maxRetryDelay`` while they keep failing and no commit comes.
    static let retryDelay: Duration = .seconds(2)
    static let maxRetryDelay: Duration = .seconds(60)

    private enum Next { case stop, now, later }

    private func loop() async {
        var delay = Self.retryDelay
        while true {
            let complete = await round()
            let next = state.withLock { state -> Next in
                state.rounds += 1
                if state.pending {
                    state.pending = false
                    return .now
                }
                if complete {
                    state.running = false
                    return .stop
                }
                return .later
            }
            switch next {
            case .stop:
                return
            case .now:
                if complete { delay = Self.retryDelay }
            case .later:
                // An idle log must still get its newest checkpoint witnessed once a witness is
                // back, so a round that missed one is repeated, later each time; a commit during
                // the wait ends it at once (witnesses that answer are never kept waiting).
                var waited: Duration = .zero
                while waited < delay, !state.withLock({ $0.pending }) {
                    try? await Task.sleep(for: .milliseconds(100))
                    waited += .milliseconds(100)
                }
                state.withLock { $0.pending = false }
                delay = min(delay * 2, Self.maxRetryDelay)
            }
        }
    }

    /// One round: the newest checkpoint to every witness at once, then the merge.
    /// - Returns: whether every witness of the policy cosigned the newest checkpoint.
    func round() async -> Bool {
        let note: String
        do {
            guard let latest = try log.latest() else { return true }
            note = latest
        } catch {
            logger.error("cannot read the newest checkpoint to witness", metadata: ["error": "\(error)"])
            return false
        }
        let signed: SignedNote
        let checkpoint: Checkpoint
        do {
            signed = try SignedNote(parsing: note)
            checkpoint = try Checkpoint(parsing: signed.text)
        } catch {
            logger.error("the newest checkpoint does not parse", metadata: ["error": "\(error)"])
            return true
        }
        let lines = await withTaskGroup(of: Cosignature?.self) { group in
            for witness in clients {
                group.addTask { await self.ask(witness, note: note, text: signed.text, checkpoint: checkpoint) }
            }
            var found: [Cosignature] = []
            for await line in group { if let line { found.append(line) } }
            return found
        }
        let merged = SignedNote(
            text: signed.text,
            signatures: signed.signatures.filter { $0.name == log.logKey.name && $0.keyID == log.logKey.keyID }
                + lines.sorted { $0.name < $1.name }.map(\.noteSignature)
        ).serialized
        let quorum = (try? WitnessedCheckpoint(note: merged, policy: policy, logKeys: [log.logKey]))?.quorumMet ?? false
        do { try Self.writeAtomically(merged, to: path) } catch {
            logger.error("cannot store the cosigned checkpoint", metadata: ["path": "\(path)", "error": "\(error)"])
        }
        state.withLock { state in
            if (state.cosigned?.size ?? 0) <= checkpoint.size {
                state.cosigned = (merged, checkpoint.size, quorum)
            }
            if quorum { state.witnessed = merged }
        }
        logger.info(
            "checkpoint cosigned",
            metadata: ["size": "\(checkpoint.size)", "cosignatures": "\(lines.count)", "quorum": "\(quorum)"]
        )
        return lines.count == clients.count
    }

    /// Asks one witness, retrying once with the size it says it holds (409), as the protocol intends.
    private func ask(
        _ witness: (name: String, key: CosignerVerifier, client: TlogWitnessClient),
        note: String,
        text: String,
        checkpoint: Checkpoint
    ) async -> Cosignature? {
        var old = state.withLock { $0.witnessSizes[witness.name] } ?? 0
        for _ in 0..<2 {
            guard old <= checkpoint.size else {
                logger.warning(
                    "witness holds a larger tree than the log's newest checkpoint",
                    metadata: ["witness": "\(witness.name)", "witnessSize": "\(old)", "size": "\(checkpoint.size)"]
                )
                return nil
            }
            let proof: [[UInt8]]
            do {
                proof = old == 0 || old == checkpoint.size ? [] : try log.consistencyProof(old, checkpoint.size)
            } catch {
                logger.error("cannot prove consistency", metadata: ["from": "\(old)", "error": "\(error)"])
                return nil
            }
            let reply: TlogWitnessClient.Reply
            do {
                reply = try await witness.client.addCheckpoint(
                    AddCheckpointRequest(oldSize: old, proof: proof, checkpoint: note)
                )
            } catch {
                logger.warning("witness unreachable", metadata: ["witness": "\(witness.name)", "error": "\(error)"])
                return nil
            }
            switch reply.status {
            case 200:
                state.withLock { $0.witnessSizes[witness.name] = checkpoint.size }
                // The body is signature lines; read them as the signature block of the checkpoint.
                guard let lines = try? SignedNote(parsing: text + "\n" + reply.body) else {
                    logger.warning(
                        "witness answered lines that are not signatures",
                        metadata: ["witness": "\(witness.name)"]
                    )
                    return nil
                }
                for line in lines.signatures where line.name == witness.key.name && line.keyID == witness.key.keyID {
                    if let cosignature = try? Cosignature(line), cosignature.isValid(for: text, key: witness.key) {
                        return cosignature
                    }
                }
                logger.warning("witness answered no valid cosignature", metadata: ["witness": "\(witness.name)"])
                return nil
            case 409:
                let digits = reply.body.trimmingCharacters(in: .whitespacesAndNewlines)
                guard let size = UInt64(digits) else { return nil }
                state.withLock { $0.witnessSizes[witness.name] = size }
                old = size
            default:
                logger.warning(
                    "witness refused the checkpoint",
                    metadata: [
                        "witness": "\(witness.name)", "status": "\(reply.status)",
                        "reason": "\(reply.body.trimmingCharacters(in: .whitespacesAndNewlines))",
                    ]
                )
                return nil
            }
        }
        return nil
    }

    static func writeAtomically(_ text: String, to path: String) throws {
        let temporary = path + ".tmp"
        try Data(text.utf8).write(to: URL(fileURLWithPath: temporary))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
        try handle.synchronize()
        try handle.close()
        guard rename(temporary, path) == 0 else {
            throw WitnessError(.malformedRequest, "cannot rename \(temporary) over \(path): errno \(errno)")
        }
    }
}
