import CanonicalJSON
import Foundation
import MerkleLog
import RetraceAudit
import RetraceCrypto
import RetraceLedger
import RetraceVerification

/// A verified local copy of a remote ledger, kept in a folder, that grows from the last checkpoint
/// it verified: an auditor's own evidence that the log only grew.
///
/// The folder holds `header.json` (the export header, rewritten with each new size), `entries.jsonl`
/// (the export body of spec/format.md §7: entry lines and checkpoint lines, only ever appended) and
/// `state.json` (the last verified checkpoint, the body's length at that point and the Merkle
/// frontier there). Each sync: the service's checkpoint verifies under the log key; it is not older
/// than the mirror's (a smaller size is a rollback, the same size with another root a fork); a
/// consistency proof links the two; the new entries, fetched in pages, rebuild exactly the new root;
/// only then are they and the checkpoint committed, `state.json` last (written aside and renamed).
/// A sync killed at any point leaves the body longer than `state.json` says; the next one cuts it
/// back and starts again from the last verified checkpoint. Then the whole mirror is audited with
/// every rule of spec/audit.md, offline, under the trust roots held here.
public struct LedgerMirror: Sendable {
    public let folder: String
    public let ledger: RemoteLedger

    public init(folder: String, ledger: RemoteLedger) {
        self.folder = folder
        self.ledger = ledger
    }

    /// What one sync did.
    public struct Sync: Sendable, Hashable {
        /// The size of the checkpoint the mirror had verified before (0 for a new mirror).
        public let from: UInt64
        /// The size of the checkpoint it verified now.
        public let to: UInt64
        /// Entries fetched and proven in this sync.
        public var fetched: UInt64 { to - from }
        /// Entries dropped from an interrupted earlier sync before this one started.
        public let discardedBytes: UInt64
    }

    /// The service showed something that contradicts what the mirror verified before.
    public struct Inconsistency: Error, Sendable, CustomStringConvertible {
        public enum Kind: String, Sendable {
            case rollback, fork
            case entriesMismatch = "entries-mismatch"
        }
        public let kind: Kind
        public let detail: String
        public var description: String { "\(kind.rawValue): \(detail)" }
    }

    struct State: Sendable {
        var size: UInt64
        var note: String?
        var bodyBytes: UInt64
        var frontier: CompactRange
    }

    var headerPath: String { folder + "/header.json" }
    var bodyPath: String { folder + "/entries.jsonl" }
    var statePath: String { folder + "/state.json" }

    /// Brings the mirror up to the service's latest checkpoint, verifying as it goes.
    public func sync() async throws -> Sync {
        let manager = FileManager.default
        try manager.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var state = try loadState()
        if !manager.fileExists(atPath: bodyPath) { manager.createFile(atPath: bodyPath, contents: nil) }
        let discarded = try cutBody(to: state.bodyBytes)
        let (latest, note) = try await ledger.checkpoint()
        let from = state.size
        if latest.size < state.size {
            throw Inconsistency(
                kind: .rollback,
                detail: "the service's checkpoint has size \(latest.size), older than size \(state.size) "
                    + "that this mirror verified before: the log was rolled back or entries were dropped"
            )
        }
        if let old = state.note {
            let previous = try ledger.openCheckpoint(old, what: "the mirror's last checkpoint")
            if latest.size == previous.size {
                guard latest.rootHash == previous.rootHash else {
                    throw Inconsistency(
                        kind: .fork,
                        detail: "size \(latest.size) now has root \(Hex.encode(latest.rootHash)), "
                            + "but this mirror verified root \(Hex.encode(previous.rootHash)) for it"
                    )
                }
                return Sync(from: from, to: from, discardedBytes: discarded)
            }
            let proof = try await ledger.client.consistencyProof(from: previous.size, to: latest.size)
            let hashes = (proof["proof"]?.arrayValue ?? []).compactMap { $0.stringValue.flatMap { Hex.decode($0) } }
            do {
                try MerkleProof.verifyConsistency(
                    size1: previous.size,
                    size2: latest.size,
                    proof: hashes,
                    root1: previous.rootHash,
                    root2: latest.rootHash
                )
            } catch {
                throw Inconsistency(
                    kind: .fork,
                    detail: "checkpoint \(latest.size) is not consistent with checkpoint "
                        + "\(previous.size) that this mirror verified: \(error)"
                )
            }
        }
        guard latest.size > state.size else { return Sync(from: from, to: from, discardedBytes: discarded) }
        guard let handle = FileHandle(forWritingAtPath: bodyPath) else {
            throw ClientError(.transport, request: "mirror", detail: "cannot write \(bodyPath)")
        }
        defer { try? handle.close() }
        try handle.seekToEnd()
        var position = state.size
        var frontier = state.frontier
        while position < latest.size {
            let page = try await ledger.client.entries(start: position, end: latest.size)
            let items = page["entries"]?.arrayValue ?? []
            guard !items.isEmpty else {
                throw ClientError(.malformedAnswer, request: "GET /v1/entries", detail: "no entries from \(position)")
            }
            var chunk: [UInt8] = []
            for item in items {
                guard let object = item.objectValue, object["index"]?.integerValue == Int64(position),
                    let bytes = object["entry"]?.stringValue.flatMap({ Base64.decode($0) })
                else {
                    throw ClientError(
                        .malformedAnswer,
                        request: "GET /v1/entries",
                        detail: "entry \(position) is missing or misnumbered"
                    )
                }
                try frontier.append(leafHash: MerkleHash.leafHash(bytes))
                chunk += try Self.exportLine(
                    index: position,
                    entry: bytes,
                    members: object["members"]?.arrayValue ?? []
                )
                position += 1
            }
            try handle.write(contentsOf: chunk)
        }
        guard frontier.rootHash == latest.rootHash else {
            throw Inconsistency(
                kind: .entriesMismatch,
                detail: "the entries the service served up to \(latest.size) hash to root "
                    + "\(Hex.encode(frontier.rootHash)), not its signed checkpoint's \(Hex.encode(latest.rootHash))"
            )
        }
        try handle.write(contentsOf: try LedgerExport.checkpointLine(note))
        try handle.synchronize()
        state = State(size: latest.size, note: note, bodyBytes: try handle.offset(), frontier: frontier)
        try writeAtomically(
            headerPath,
            try LedgerExport.header(
                origin: latest.origin,
                logKey: ledger.anchors.logKey.description,
                governance: ledger.anchors.governance.map(\.description),
                treeSize: latest.size
            )
        )
        try saveState(state)
        return Sync(from: from, to: latest.size, discardedBytes: discarded)
    }

    /// Audits everything the mirror holds, under the trust roots held here (no network).
    public func audit(threads: Int = 2, keepGoing: Bool = false) throws -> AuditReport {
        guard let header = FileManager.default.contents(atPath: headerPath) else {
            throw AuditError(.notALedger, "the mirror \(folder) holds nothing yet")
        }
        var line = Array(header)
        if line.last == 0x0A { line.removeLast() }
        let auditor = Auditor(
            trustRoots: ledger.anchors.governance,
            logKey: ledger.anchors.logKey,
            origin: ledger.anchors.origin,
            threads: threads,
            keepGoing: keepGoing
        )
        return try auditor.audit(exportHeader: line, bodyAt: bodyPath)
    }

    // MARK: Files

    static func exportLine(index: UInt64, entry: [UInt8], members: [JSONValue]) throws -> [UInt8] {
        var object = JSONObject()
        do { object["entry"] = try CanonicalJSON.decode(entry) } catch {
            throw ClientError(.malformedAnswer, request: "GET /v1/entries", detail: "entry \(index) is not JSON")
        }
        object["index"] = .integer(Int64(index))
        if !members.isEmpty {
            object["members"] = .array(
                try members.map { value in
                    guard let bytes = value.stringValue.flatMap({ Base64.decode($0) }),
                        let member = try? CanonicalJSON.decode(bytes)
                    else {
                        throw ClientError(
                            .malformedAnswer,
                            request: "GET /v1/entries",
                            detail: "a member of entry \(index) is malformed"
                        )
                    }
                    return member
                }
            )
        }
        return try CanonicalJSON.encode(.object(object)) + [0x0A]
    }

    func loadState() throws -> State {
        guard let data = FileManager.default.contents(atPath: statePath) else {
            return State(size: 0, note: nil, bodyBytes: 0, frontier: CompactRange())
        }
        guard let object = try? CanonicalJSON.decode(Array(data), options: .lenient).objectValue,
            let size = object["size"]?.integerValue, let bytes = object["bodyBytes"]?.integerValue,
            let note = object["checkpoint"]?.stringValue, let hashes = object["frontier"]?.arrayValue
        else {
            throw ClientError(.malformedAnswer, request: "mirror", detail: "\(statePath) is not a mirror state file")
        }
        let frontier = try CompactRange(
            size: UInt64(size),
            hashes: hashes.compactMap { $0.stringValue.flatMap { Hex.decode($0) } }
        )
        _ = try ledger.openCheckpoint(note, what: "the mirror's last checkpoint")
        return State(size: UInt64(size), note: note, bodyBytes: UInt64(bytes), frontier: frontier)
    }

    func saveState(_ state: State) throws {
        let object: JSONValue = .object([
            "size": .integer(Int64(state.size)), "checkpoint": state.note.map { .string($0) } ?? .null,
            "bodyBytes": .integer(Int64(state.bodyBytes)),
            "frontier": .array(state.frontier.hashes.map { .string(Hex.encode($0)) }),
        ])
        try writeAtomically(statePath, try CanonicalJSON.encode(object) + [0x0A])
    }

    /// Cuts what an interrupted sync appended after the last committed checkpoint.
    func cutBody(to length: UInt64) throws -> UInt64 {
        let size = (try FileManager.default.attributesOfItem(atPath: bodyPath)[.size] as? NSNumber)?.uint64Value ?? 0
        guard size != length else { return 0 }
        guard size > length else {
            throw ClientError(
                .malformedAnswer,
                request: "mirror",
                detail: "\(bodyPath) is shorter (\(size) bytes) than its state says (\(length)); the mirror was damaged"
            )
        }
        guard let handle = FileHandle(forWritingAtPath: bodyPath) else {
            throw ClientError(.transport, request: "mirror", detail: "cannot write \(bodyPath)")
        }
        defer { try? handle.close() }
        try handle.truncate(atOffset: length)
        try handle.synchronize()
        return size - length
    }

    /// Written aside, flushed, then renamed over: a reader sees the old file or the new, never half.
    func writeAtomically(_ path: String, _ bytes: [UInt8]) throws {
        let temporary = path + ".new"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(bytes)),
            let handle = FileHandle(forUpdatingAtPath: temporary)
        else { throw ClientError(.transport, request: "mirror", detail: "cannot write \(temporary)") }
        try handle.synchronize()
        try handle.close()
        guard rename(temporary, path) == 0 else {
            throw ClientError(.transport, request: "mirror", detail: "cannot replace \(path)")
        }
    }
}
