import CanonicalJSON
import Foundation
import MerkleLog
import RetraceCrypto
import RetraceEvents
import RetraceTiles
import RetraceVerification

/// What a ``LedgerMirror`` reads a log from. Every answer is checked by the mirror or here against
/// the anchors before it is used: a source supplies bytes and hashes, never a verdict.
public protocol MirrorSource: Sendable {
    var anchors: TrustAnchors { get }
    /// The log's latest checkpoint, opened under the anchors (and any other pin the source holds).
    func checkpoint() async throws -> (checkpoint: Checkpoint, note: String)
    /// A checkpoint note held earlier, opened under the anchors.
    func openCheckpoint(_ note: String, what: String) throws -> Checkpoint
    /// Checks that the tree `newer` extends the tree `older`; throws `MerkleError` when it does not.
    func proveConsistency(
        from older: (size: UInt64, root: [UInt8]),
        to newer: (size: UInt64, root: [UInt8])
    )
        async throws
    /// Entries `[from, to)` with their batch members, in log order (not yet checked: the mirror
    /// rebuilds the signed root from them).
    func entries(from: UInt64, to: UInt64) async throws -> [LogEntry]
}

extension RemoteLedger: MirrorSource {
    public func proveConsistency(
        from older: (size: UInt64, root: [UInt8]),
        to newer: (size: UInt64, root: [UInt8])
    ) async throws {
        try await client.proveConsistency(from: older, to: newer)
    }

    /// Entries from `/v1/entries`, in pages, each parsed with its batch members.
    public func entries(from: UInt64, to: UInt64) async throws -> [LogEntry] {
        var entries: [LogEntry] = []
        entries.reserveCapacity(Int(to - from))
        var position = from
        while position < to {
            let page = try await client.entries(start: position, end: to)
            let items = page["entries"]?.arrayValue ?? []
            guard !items.isEmpty else {
                throw ClientError(.malformedAnswer, request: "GET /v1/entries", detail: "no entries from \(position)")
            }
            for item in items.prefix(Int(to - position)) {
                guard let object = item.objectValue else {
                    throw ClientError(
                        .malformedAnswer,
                        request: "GET /v1/entries",
                        detail: "entry \(position) is no object"
                    )
                }
                entries.append(try RemoteLedger.parseEntry(object, index: position).entry)
                position += 1
            }
        }
        return entries
    }
}

/// A log published as C2SP tlog-tiles (`retrace tiles --out`, or `/tile/…` of `retrace serve`),
/// read from a folder or any static web host: the checkpoint, the entry bundles with the
/// `/members/` files of batch statements, and the hash tiles for consistency proofs.
///
/// Why it can be believed: the checkpoint opens only under the trusted log key and origin, a
/// consistency proof built from hash tiles is checked against the two signed roots (a host that
/// serves altered tiles fails it), and the mirror rebuilds the signed root from the entries it
/// copies. A static host cannot be asked for cosignatures: a witness policy is not applied here.
public struct TiledSource: MirrorSource {
    public let log: TiledLog
    public let anchors: TrustAnchors

    public init(log: TiledLog, anchors: TrustAnchors) {
        self.log = log
        self.anchors = anchors
    }

    public func checkpoint() async throws -> (checkpoint: Checkpoint, note: String) {
        let (note, checkpoint) = try log.checkpoint(logKey: anchors.logKey, origin: anchors.origin)
        return (checkpoint, note)
    }

    public func openCheckpoint(_ note: String, what: String) throws -> Checkpoint {
        do { return try Checkpoint.open(note, verifiers: [anchors.logKey], origin: anchors.origin) } catch {
            throw VerificationError(
                .checkpointInvalid,
                "\(what) does not verify under the log key \(anchors.logKey.name): \(error)"
            )
        }
    }

    public func proveConsistency(
        from older: (size: UInt64, root: [UInt8]),
        to newer: (size: UInt64, root: [UInt8])
    ) async throws {
        let proof = try MerkleTree.consistencyProof(
            from: older.size,
            to: newer.size,
            reader: log.nodeReader(treeSize: newer.size)
        )
        try MerkleProof.verifyConsistency(
            size1: older.size,
            size2: newer.size,
            proof: proof,
            root1: older.root,
            root2: newer.root
        )
    }

    public func entries(from: UInt64, to: UInt64) async throws -> [LogEntry] {
        var entries: [LogEntry] = []
        entries.reserveCapacity(Int(to - from))
        try log.forEachEntry(treeSize: to, from: from, to: to) { index, bytes in
            do {
                let members = try (log.members(at: index) ?? []).enumerated().map { position, memberBytes in
                    try BatchMember(
                        json: CanonicalJSON.decode(memberBytes),
                        path: "members/\(index)[\(position)]"
                    )
                }
                entries.append(try LogEntry(parsing: bytes, members: members))
            } catch let error as TileError {
                throw error
            } catch {
                throw VerificationError(
                    .inclusionFailed,
                    "entry \(index) from \(log.location) does not parse: \(error)"
                )
            }
        }
        return entries
    }
}
