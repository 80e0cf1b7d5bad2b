import CanonicalJSON
import MerkleLog
import RetraceCrypto
import RetraceEvents
import RetraceIdentity

/// A monitor of one Retrace log: from the checkpoint it last verified, it checks that the log's
/// new checkpoint extends it (consistency proof), recomputes the new root from every new entry,
/// and reports the new events about what it watches, one JSON object per line.
///
/// Monitors are how a brand learns that someone commissioned a GTIN under its prefix, or a party
/// that a statement was signed with its key that it never made: the log proves it cannot hide
/// such an entry from one monitor and show a different tree to everyone else (witnesses), and the
/// monitor checks every entry rather than trusting the log's indexes.
public struct LogMonitor: Sendable {
    /// What the monitor keeps between runs.
    public struct State: Codable, Sendable, Hashable {
        public let origin: String
        public let size: UInt64
        /// Base64 root of `size`.
        public let root: String
        /// The compact range (RFC 9162 subtree roots, base64) of the first `size` leaves, so the
        /// next run needs only the new entries to recompute the root.
        public let frontier: [String]
        /// The checkpoint note verified last.
        public let checkpoint: String
    }

    /// What to report on.
    public struct Watch: Sendable {
        /// GS1 company prefixes (digits after the GTIN-14 indicator digit).
        public let companyPrefixes: [String]
        /// Canonical Digital Links of products.
        public let products: Set<String>
        /// Signing keys by name; their statements are reported and their signatures checked.
        public let keys: [NoteVerifier]

        public init(companyPrefixes: [String], products: Set<String>, keys: [NoteVerifier]) {
            self.companyPrefixes = companyPrefixes
            self.products = products
            self.keys = keys
        }
    }

    /// One stored or served leaf with its batch members' canonical bytes.
    public struct Leaf: Sendable {
        public let index: UInt64
        public let bytes: [UInt8]
        public let members: [[UInt8]]

        public init(index: UInt64, bytes: [UInt8], members: [[UInt8]]) {
            self.index = index
            self.bytes = bytes
            self.members = members
        }
    }

    /// Where the monitor reads the log (a ledger file or a server).
    public struct Source: Sendable {
        public let checkpoint: @Sendable () async throws -> String
        public let consistencyProof: @Sendable (_ from: UInt64, _ to: UInt64) async throws -> [[UInt8]]
        /// Leaves `[from, to)`, in order; may return fewer (a page), never none while from < to.
        public let leaves: @Sendable (_ from: UInt64, _ to: UInt64) async throws -> [Leaf]

        public init(
            checkpoint: @escaping @Sendable () async throws -> String,
            consistencyProof: @escaping @Sendable (UInt64, UInt64) async throws -> [[UInt8]],
            leaves: @escaping @Sendable (UInt64, UInt64) async throws -> [Leaf]
        ) {
            self.checkpoint = checkpoint
            self.consistencyProof = consistencyProof
            self.leaves = leaves
        }
    }

    /// Why a run stopped: the log misbehaved (`kind` is reported) or could not be read.
    public struct Alarm: Error, Sendable, CustomStringConvertible {
        /// `rollback`, `inconsistent`, `bad-checkpoint` or `bad-entry`.
        public let kind: String
        public let reason: String
        public let json: JSONValue
        public var description: String { "\(kind): \(reason)" }
    }

    public let logKey: NoteVerifier
    public let origin: String?
    public let watch: Watch

    public init(logKey: NoteVerifier, origin: String?, watch: Watch) {
        self.logKey = logKey
        self.origin = origin
        self.watch = watch
    }

    /// One run: verifies everything new since `state` and reports it through `report`.
    /// - Returns: the new state (unchanged when the log did not grow).
    /// - Throws: ``Alarm`` for a rollback, an inconsistent tree, or an entry that does not check out;
    ///   the state is then not advanced, so the evidence stays reproducible.
    public func run(from state: State?, source: Source, report: (JSONValue) throws -> Void) async throws -> State {
        let note = try await source.checkpoint()
        let checkpoint: Checkpoint
        do { checkpoint = try Checkpoint.open(note, verifiers: [logKey], origin: origin ?? state?.origin) } catch {
            throw alarm("bad-checkpoint", "the log's checkpoint does not verify: \(error.reason)", [:])
        }
        var frontier = CompactRange()
        if let state {
            guard checkpoint.size >= state.size else {
                throw alarm(
                    "rollback",
                    "the log now shows size \(checkpoint.size), below the size \(state.size) it signed before",
                    [
                        "held": .integer(Int64(state.size)), "offered": .integer(Int64(checkpoint.size)),
                        "heldCheckpoint": .string(state.checkpoint), "offeredCheckpoint": .string(note),
                    ]
                )
            }
            guard let root = Base64.decode(state.root),
                let restored = try? CompactRange(
                    size: state.size,
                    hashes: state.frontier.compactMap { Base64.decode($0) }
                )
            else {
                throw alarm("bad-state", "the monitor's state file is damaged", [:])
            }
            if checkpoint.size == state.size {
                guard checkpoint.rootHash == root else {
                    throw alarm(
                        "inconsistent",
                        "two checkpoints of size \(state.size) with different roots (a split view)",
                        [
                            "size": .integer(Int64(state.size)), "heldCheckpoint": .string(state.checkpoint),
                            "offeredCheckpoint": .string(note),
                        ]
                    )
                }
                return state
            }
            if state.size > 0 {
                do {
                    let proof = try await source.consistencyProof(state.size, checkpoint.size)
                    try MerkleProof.verifyConsistency(
                        size1: state.size,
                        size2: checkpoint.size,
                        proof: proof,
                        root1: root,
                        root2: checkpoint.rootHash
                    )
                } catch {
                    throw alarm(
                        "inconsistent",
                        "checkpoint \(checkpoint.size) does not extend checkpoint \(state.size): \(error)",
                        [
                            "from": .integer(Int64(state.size)), "to": .integer(Int64(checkpoint.size)),
                            "heldCheckpoint": .string(state.checkpoint), "offeredCheckpoint": .string(note),
                        ]
                    )
                }
            }
            frontier = restored
        }
        var next = frontier.size
        while next < checkpoint.size {
            let page = try await source.leaves(next, checkpoint.size)
            guard !page.isEmpty else { throw alarm("bad-entry", "the log returned no entries from \(next)", [:]) }
            for leaf in page {
                guard leaf.index == next else {
                    throw alarm(
                        "bad-entry",
                        "expected entry \(next), the log returned \(leaf.index)",
                        ["index": .integer(Int64(next))]
                    )
                }
                try examine(leaf, report: report)
                do { try frontier.append(entry: leaf.bytes) } catch {
                    throw alarm(
                        "bad-entry",
                        "entry \(leaf.index): \(error.reason)",
                        ["index": .integer(Int64(leaf.index))]
                    )
                }
                next += 1
            }
        }
        guard frontier.rootHash == checkpoint.rootHash else {
            throw alarm(
                "inconsistent",
                "the entries the log served do not hash to the root its checkpoint \(checkpoint.size) signs",
                ["size": .integer(Int64(checkpoint.size))]
            )
        }
        try report(
            .object([
                "kind": .string("checkpoint"), "treeSize": .integer(Int64(checkpoint.size)),
                "root": .string(Hex.encode(checkpoint.rootHash)),
                "newEntries": .integer(Int64(checkpoint.size - (state?.size ?? 0))),
            ])
        )
        return State(
            origin: checkpoint.origin,
            size: checkpoint.size,
            root: Base64.encode(checkpoint.rootHash),
            frontier: frontier.hashes.map { Base64.encode($0) },
            checkpoint: note
        )
    }

    /// Parses an entry and reports it if it touches a watched prefix, product or key.
    private func examine(_ leaf: Leaf, report: (JSONValue) throws -> Void) throws {
        let entry: LogEntry
        do {
            entry = try LogEntry(parsing: leaf.bytes, members: BatchMember.parsing(leaf.members))
        } catch {
            throw alarm(
                "bad-entry",
                "entry \(leaf.index) is not a Retrace log entry: \(error)",
                ["index": .integer(Int64(leaf.index))]
            )
        }
        let statement = entry.statement
        var matched: [JSONValue] = []
        for product in entry.signed.products {
            let digits = product.gtin.digits
            for prefix in watch.companyPrefixes where digits.dropFirst().hasPrefix(prefix) {
                matched.append(.string("prefix:\(prefix)"))
            }
            if watch.products.contains(product.digitalLink) {
                matched.append(.string("product:\(product.digitalLink)"))
            }
        }
        // A product-class statement describes a GTIN: a brand watching its prefix sees every
        // description of its products (and a correction it did not make).
        if let gtin = statement.classGTIN {
            for prefix in watch.companyPrefixes where gtin.dropFirst().hasPrefix(prefix) {
                matched.append(.string("prefix:\(prefix)"))
            }
        }
        var signatureValid: JSONValue = .null
        for key in watch.keys where statement.signer.bytes == key.publicKey.fingerprint {
            matched.append(.string("key:\(key.name)"))
            signatureValid = .bool(entry.signed.isSigned(by: key.publicKey))
        }
        guard !matched.isEmpty else { return }
        var object: JSONObject = [
            "kind": .string("event"), "index": .integer(Int64(leaf.index)), "type": .string(statement.type.name),
            "event": .string(statement.id.hex), "signer": .string(statement.signer.hex),
            "time": .string(statement.time.description),
            "matched": .array(Array(Set(matched.compactMap(\.stringValue))).sorted().map { .string($0) }),
        ]
        if let product = statement.product { object["product"] = .string(product.digitalLink) }
        if let gtin = statement.classGTIN { object["gtin"] = .string(gtin) }
        if !entry.signed.members.isEmpty { object["members"] = .integer(Int64(entry.signed.members.count)) }
        if signatureValid != .null { object["signatureValid"] = signatureValid }
        try report(.object(object))
    }

    private func alarm(_ kind: String, _ reason: String, _ extra: JSONObject) -> Alarm {
        var object = extra
        object["kind"] = .string(kind)
        object["reason"] = .string(reason)
        return Alarm(kind: kind, reason: reason, json: .object(object))
    }
}
