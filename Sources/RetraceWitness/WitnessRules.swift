import MerkleLog
import RetraceCrypto

/// What a witness checks before it cosigns (C2SP tlog-witness, `add-checkpoint`), as a pure
/// function of the request, the logs it witnesses and the head it last cosigned for that log.
///
/// Keeping the decision free of I/O lets the service run it inside one critical section with
/// the write of the new head (compare-and-swap), and lets the tests drive every refusal directly.
public enum WitnessRules {
    /// Why a witness refuses, with the HTTP status the protocol assigns.
    public struct Refusal: Error, Sendable, Hashable, CustomStringConvertible {
        /// 400 malformed request or old size above the checkpoint's; 403 no valid log signature;
        /// 404 unknown origin; 409 old size is not the size the witness holds; 422 bad proof or
        /// a same-size checkpoint with another root (the current C2SP text; v1.0.0 said 409).
        public let status: Int
        public let reason: String
        /// For 409: the size of the latest checkpoint the witness cosigned for the origin.
        public let storedSize: UInt64?

        public init(status: Int, reason: String, storedSize: UInt64? = nil) {
            self.status = status
            self.reason = reason
            self.storedSize = storedSize
        }

        public var description: String { "\(status): \(reason)" }
    }

    /// The head a witness holds for one log.
    public struct Head: Sendable, Hashable, Codable {
        public let size: UInt64
        public let root: [UInt8]

        public init(size: UInt64, root: [UInt8]) {
            self.size = size
            self.root = root
        }
    }

    /// Checks a request; on success returns the verified checkpoint and its note text, which the
    /// caller stores as the new head (atomically with this check) and cosigns.
    ///
    /// - Parameters:
    ///   - logs: the witness's configured logs, origin → trusted log keys.
    ///   - stored: the head last cosigned for the checkpoint's origin, `nil` if none.
    public static func check(
        _ request: AddCheckpointRequest,
        logs: [String: [NoteVerifier]],
        stored: (String) -> Head?
    ) throws(Refusal) -> (checkpoint: Checkpoint, text: String) {
        let note: SignedNote
        let checkpoint: Checkpoint
        do {
            note = try SignedNote(parsing: request.checkpoint)
            checkpoint = try Checkpoint(parsing: note.text)
        } catch {
            throw Refusal(status: 400, reason: "the checkpoint is not a C2SP checkpoint note: \(error)")
        }
        guard let keys = logs[checkpoint.origin], !keys.isEmpty else {
            throw Refusal(status: 404, reason: "this witness does not witness the log \"\(checkpoint.origin)\"")
        }
        do { try note.verify(with: keys) } catch {
            throw Refusal(status: 403, reason: "checkpoint \(checkpoint.size) of \(checkpoint.origin): \(error.reason)")
        }
        guard request.oldSize <= checkpoint.size else {
            throw Refusal(
                status: 400,
                reason: "old size \(request.oldSize) is larger than the checkpoint's size \(checkpoint.size)"
            )
        }
        let head = stored(checkpoint.origin) ?? Head(size: 0, root: MerkleHash.emptyRoot)
        guard request.oldSize == head.size else {
            throw Refusal(
                status: 409,
                reason:
                    "old size \(request.oldSize) is not the size this witness holds for \(checkpoint.origin) (\(head.size))",
                storedSize: head.size
            )
        }
        if checkpoint.size == 0 {
            guard checkpoint.rootHash == MerkleHash.emptyRoot else {
                throw Refusal(status: 422, reason: "a checkpoint of size 0 must carry the empty tree's root")
            }
        }
        if request.oldSize == 0 {
            guard request.proof.isEmpty else {
                throw Refusal(
                    status: 422,
                    reason: "old size 0 needs an empty consistency proof, found \(request.proof.count) lines"
                )
            }
        } else if request.oldSize == checkpoint.size {
            guard request.proof.isEmpty, checkpoint.rootHash == head.root else {
                throw Refusal(
                    status: 422,
                    reason: "checkpoint \(checkpoint.size) of \(checkpoint.origin) has another root than the one this "
                        + "witness cosigned at that size (a split view)"
                )
            }
        } else {
            do {
                try MerkleProof.verifyConsistency(
                    size1: head.size,
                    size2: checkpoint.size,
                    proof: request.proof,
                    root1: head.root,
                    root2: checkpoint.rootHash
                )
            } catch {
                throw Refusal(
                    status: 422,
                    reason:
                        "checkpoint \(checkpoint.size) of \(checkpoint.origin) is not consistent with size \(head.size) "
                        + "this witness cosigned: \(error.reason)"
                )
            }
        }
        return (checkpoint, note.text)
    }
}
