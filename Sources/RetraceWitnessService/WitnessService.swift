import Foundation
import Logging
import MerkleLog
import RetraceCrypto
import RetraceWitness

/// A C2SP tlog-witness: answers `add-checkpoint` for the logs it is configured with, cosigning a
/// checkpoint only when it is consistent with the head it last cosigned for that log.
public final class WitnessService: Sendable {
    /// An HTTP answer, independent of the server library.
    public struct Answer: Sendable, Hashable {
        public let status: Int
        public let contentType: String
        public let body: String
    }

    public let signer: CosignerSigner
    /// Origin → the log keys trusted for it.
    public let logs: [String: [NoteVerifier]]
    public let state: WitnessStateFile
    /// When set, new entries are fetched and checked before a checkpoint is cosigned (§4.3).
    public let auditor: EntryAuditor?
    let clock: @Sendable () -> UInt64
    let logger: Logger

    public init(
        signer: CosignerSigner,
        logs: [NoteVerifier],
        state: WitnessStateFile,
        auditor: EntryAuditor? = nil,
        clock: @escaping @Sendable () -> UInt64 = { UInt64(Date().timeIntervalSince1970) },
        logger: Logger = Logger(label: "retrace.witness")
    ) {
        self.signer = signer
        self.logs = Dictionary(grouping: logs, by: \.name)
        self.state = state
        self.auditor = auditor
        self.clock = clock
        self.logger = logger
    }

    public func addCheckpoint(body: String) async -> Answer {
        let request: AddCheckpointRequest
        do { request = try AddCheckpointRequest(parsing: body) } catch {
            return Answer(status: 400, contentType: "text/plain; charset=utf-8", body: error.reason + "\n")
        }
        if let auditor {
            // Check first against the held head (cheap, and no entry is fetched for a request
            // that would be refused anyway), then fetch and check the entries outside the lock;
            // the commit below checks again, so a head that moved meanwhile gives 409, not a rollback.
            do {
                let (checkpoint, _) = try WitnessRules.check(request, logs: logs, stored: state.head)
                try await auditor.audit(note: request.checkpoint, checkpoint: checkpoint)
            } catch let refusal as WitnessRules.Refusal {
                return refused(refusal)
            } catch {
                logger.notice("audit refused", metadata: ["reason": "\(error)"])
                return Answer(
                    status: 422,
                    contentType: "text/plain; charset=utf-8",
                    body:
                        "this witness audits the log's entries before cosigning, and they do not check out: \(error)\n"
                )
            }
        }
        do {
            let lines = try state.update {
                head throws -> (origin: String, record: WitnessStateFile.Record, result: String) in
                let (checkpoint, text) = try WitnessRules.check(request, logs: logs, stored: head)
                let cosignature = try signer.cosign(checkpointText: text, time: max(1, clock()))
                let note = try SignedNote(parsing: request.checkpoint)
                let logLines = SignedNote(
                    text: text,
                    signatures: note.signatures.filter { line in
                        logs[checkpoint.origin]?.contains { $0.name == line.name && $0.keyID == line.keyID } ?? false
                    }
                )
                let record = WitnessStateFile.Record(
                    size: checkpoint.size,
                    root: Base64.encode(checkpoint.rootHash),
                    note: logLines.serialized + cosignature.line
                )
                logger.info("cosigned", metadata: ["origin": "\(checkpoint.origin)", "size": "\(checkpoint.size)"])
                return (checkpoint.origin, record, cosignature.line)
            }
            return Answer(status: 200, contentType: "text/plain; charset=utf-8", body: lines)
        } catch let refusal as WitnessRules.Refusal {
            return refused(refusal)
        } catch {
            logger.error("cannot cosign", metadata: ["error": "\(error)"])
            return Answer(
                status: 500,
                contentType: "text/plain; charset=utf-8",
                body: "the witness could not store its state\n"
            )
        }
    }

    private func refused(_ refusal: WitnessRules.Refusal) -> Answer {
        logger.notice("refused", metadata: ["status": "\(refusal.status)", "reason": "\(refusal.reason)"])
        if refusal.status == 409, let size = refusal.storedSize {
            return Answer(status: 409, contentType: "text/x.tlog.size", body: "\(size)\n")
        }
        return Answer(status: refusal.status, contentType: "text/plain; charset=utf-8", body: refusal.reason + "\n")
    }

    /// The monitoring endpoint's answer for `GET /<hex sha256(origin)>/checkpoint`.
    public func checkpoint(originHash: String) -> Answer {
        for origin in logs.keys where Hex.encode(SHA256.hash(Array(origin.utf8))) == originHash.lowercased() {
            if let note = state.note(origin) {
                return Answer(status: 200, contentType: "text/plain; charset=utf-8", body: note)
            }
        }
        return Answer(
            status: 404,
            contentType: "text/plain; charset=utf-8",
            body: "this witness has cosigned no checkpoint for that log\n"
        )
    }
}
