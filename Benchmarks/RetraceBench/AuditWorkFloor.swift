import MerkleLog
import RetraceCrypto
import RetraceEvents
import RetraceLedger
import RetraceStorage
import VerifiableMap

/// The work any audit of a ledger must do besides a signature per entry and the scan (reading and
/// leaf-hashing each entry), done alone over a real ledger (`audit-child --work-floor`): the
/// hashes the format requires, and reading the stored derived rows the audit vouches for.
///
/// The scan's ceiling (signature + scan) left the audit's own CPU, about 11 µs per entry, as one
/// lump. Part of it no code can leave out. The format requires every event's id (SHA-256 of its
/// statement, which the next event of its chain names), the Merkle tree's interior nodes, a
/// batch's member commitment, every chain's heads-map key, and at each checkpoint the map's leaves
/// and branches on the paths the interval changed. And an audit that vouches for the stored
/// derived data (the tree's nodes, the chain links and their states, the product rows, which
/// verdicts and proofs are served from) must read all of it. Those are what this measures, so that
/// the audit's target can be set beside a floor that includes them (issue 15).
///
/// What the hashes need (each statement's length, each entry's map keys, what each checkpoint's map
/// update costs, the chains' keys) is gathered first by parsing every entry, untimed; the timed
/// pass then reads every entry again, as the scan does, and computes exactly those hashes on inputs
/// of their real lengths — nothing parsed, nothing judged, nothing compared. SHA-256's cost depends
/// on the length hashed alone, so an event id is hashed over the first bytes of its entry, as many
/// as its statement has, and the map's digests over buffers of the map's leaf and branch sizes. The
/// stored rows are then read, timed apart, through the reader calls the audit uses. Left out, so
/// that this stays a floor: the checkpoints' own signatures (one per interval of about a thousand
/// entries) and everything the audit does with what it hashed and read.
enum AuditWorkFloor {
    struct Inputs {
        /// Each entry's statement length, in log order.
        var statementLengths: [Int32] = []
        /// Each entry's map keys are `keys[keyEnds[i - 1] ..< keyEnds[i]]`.
        var keyEnds: [Int] = []
        var keys: [Chain] = []
        /// Each checkpoint interval's end, and the digests the heads map computed to reach it.
        var checkpoints: [(size: UInt64, leaves: Int, branches: Int)] = []
        /// Every product chain's key, in bytewise order: the stored links and rows are read in
        /// ranges between them, as the end of an audit reads them.
        var chainKeys: [String] = []
    }

    /// Chains whose stored links and rows are read at once: the audit's default.
    static let chainsPerRead = 4_096

    /// Parses every entry and replays the heads map once, untimed.
    static func gather(_ store: any LedgerStore) throws -> Inputs {
        try store.read { reader in
            let size = try reader.treeSize()
            let sizes = Set(try reader.checkpoints().map(\.size).filter { $0 > 0 && $0 <= size }).sorted()
            var inputs = Inputs()
            var map = FlatHeadsMap()
            var pending: [SHA256Digest: FlatHeadsMap.Head] = [:]
            var index: UInt64 = 0
            var next = 0
            try reader.forEachEntry(from: 0, to: size) { stored in
                let entry = try LogEntry(parsing: stored.bytes, members: BatchMember.parsing(stored.members))
                let statement = entry.statement
                inputs.statementLengths.append(Int32(statement.canonicalBytes.count))
                // The keys the audit's heads map advances for this entry.
                let event = SHA256Digest(statement.id.bytes) ?? .zero
                try entry.signed.forEachChain { chain, _ in
                    inputs.keys.append(chain)
                    let digest = chain.mapKeyDigest
                    let count = (pending[digest]?.count ?? 0) + 1
                    pending[digest] = try FlatHeadsMap.Head(key: digest, eventID: event, count: count, index: index)
                }
                inputs.keyEnds.append(inputs.keys.count)
                index += 1
                if next < sizes.count, sizes[next] == index {
                    let before = map.digestsComputed
                    try map.advance(all: Array(pending.values))
                    pending.removeAll(keepingCapacity: true)
                    inputs.checkpoints.append(
                        (
                            index,
                            map.digestsComputed.leaves - before.leaves,
                            map.digestsComputed.branches - before.branches
                        )
                    )
                    next += 1
                }
            }
            inputs.chainKeys = Set(
                inputs.keys.compactMap { if case .product(let product) = $0 { product.digitalLink } else { nil } }
            ).sorted(by: Bytewise.precedes)
            return inputs
        }
    }

    /// Reads every entry as the scan does and computes the hashes `inputs` call for; the number of
    /// entries read.
    static func hash(_ store: any LedgerStore, _ inputs: Inputs) throws -> Int {
        var frontier = TreeFrontier()
        // Never filled: the floor compares no stored node.
        var completed: [(NodeID, SHA256Digest)] = []
        var next = 0
        // Map leaves are `0x02 ‖ key ‖ value` (81 bytes), branches `0x03 ‖ left ‖ right` (65): each
        // digest is fed back into the next input, so no call can be skipped.
        var leafInput = [UInt8](repeating: 0x02, count: 1 + 32 + 48)
        var branchInput = [UInt8](repeating: 0x03, count: 1 + 32 + 32)
        var last = SHA256Digest.zero
        func mapDigests(_ count: Int, into input: inout [UInt8]) {
            for _ in 0..<count {
                input.withUnsafeMutableBytes { buffer in
                    last.withUnsafeBytes {
                        UnsafeMutableRawBufferPointer(rebasing: buffer[1..<33]).copyMemory(from: $0)
                    }
                    last = SHA256Digest(hashing: UnsafeRawBufferPointer(buffer))
                }
            }
        }
        try store.read { reader in
            try reader.forEachEntry(from: 0, to: UInt64(inputs.statementLengths.count)) { stored in
                let position = Int(frontier.size)
                let leaf = MerkleHash.leafHash(stored.bytes)
                let statementLength = min(Int(inputs.statementLengths[position]), stored.bytes.count)
                let id = stored.bytes.withUnsafeBytes {
                    SHA256Digest(hashing: UnsafeRawBufferPointer(rebasing: $0[..<statementLength]))
                }
                if id == .zero { throw BenchError("an all-zero event id") }
                if !stored.members.isEmpty {
                    var range = CompactRange()
                    for member in stored.members { try range.append(leafHash: MerkleHash.leafHash(member)) }
                    if range.rootHash.isEmpty { throw BenchError("an empty member commitment") }
                }
                let keys = (position == 0 ? 0 : inputs.keyEnds[position - 1])..<inputs.keyEnds[position]
                // The roster's key is a constant: nothing to hash.
                for key in inputs.keys[keys] where key != .roster { last = key.mapKeyDigest }
                // The recomputed tree, through the audit's own frontier: the nodes this leaf completes.
                frontier.append(leafHash: SHA256Digest(leaf) ?? .zero, completed: &completed, collect: false)
                if next < inputs.checkpoints.count, inputs.checkpoints[next].size == frontier.size {
                    // The root the checkpoint signs, and the map's update.
                    if frontier.rootHash.isEmpty { throw BenchError("an empty root") }
                    mapDigests(inputs.checkpoints[next].leaves, into: &leafInput)
                    mapDigests(inputs.checkpoints[next].branches, into: &branchInput)
                    next += 1
                }
            }
        }
        if last == .zero { throw BenchError("no hash computed") }
        return Int(frontier.size)
    }

    /// Reads every stored derived row an audit compares with what it recomputed — the tree's nodes
    /// level by level, every chain's links and product row in the ranges the audit reads them in —
    /// comparing nothing. A missing node or too few rows is an error, so that a ledger without its
    /// derived data cannot pass for a cheap one.
    static func readDerived(_ store: any LedgerStore, _ inputs: Inputs) throws {
        try store.read { reader in
            try readDerived(reader, treeSize: UInt64(inputs.statementLengths.count), chainKeys: inputs.chainKeys)
        }
    }

    private static func readDerived(_ reader: any LedgerReader, treeSize: UInt64, chainKeys: [String]) throws {
        var level = 0
        var nodes: UInt64 = 0
        var expected: UInt64 = 0
        while treeSize >> UInt64(level) > 0 {
            let count = treeSize >> UInt64(level)
            try reader.forEachNodeHash(level: level, indices: 0..<count) { _, hash in
                if hash.count == 32 { nodes += 1 }
            }
            expected += count
            level += 1
        }
        guard nodes == expected else { throw BenchError("\(nodes) stored nodes read, \(expected) expected") }
        var links = 0
        var rows = 0
        var lower: String?
        var start = 0
        while start <= chainKeys.count {
            let end = min(start + chainsPerRead, chainKeys.count)
            // The last range is open above, as the audit's: the roster's and the classes' chains too.
            let upper = end < chainKeys.count ? chainKeys[end - 1] : nil
            links += try reader.chainLinks(after: lower, through: upper).count
            rows += try reader.products(after: lower, through: upper).count
            lower = upper
            start = end == chainKeys.count ? chainKeys.count + 1 : end
        }
        guard links >= Int(treeSize) / 2, rows >= chainKeys.count else {
            throw BenchError("\(links) chain links and \(rows) product rows read for \(chainKeys.count) chains")
        }
    }
}
