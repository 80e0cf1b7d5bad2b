import Foundation
import MerkleLog
import RetraceCrypto
import RetraceEvents
import RetraceSimulation
import RetraceStorage

/// Checks a ledger file's invariants from its stored rows, incrementally across reopenings.
///
/// Entries are append-only, so each check verifies only the entries added since the last one, then
/// re-checks everything that may have moved: the tree size, the Merkle root against a root
/// recomputed from the leaves, every checkpoint (signature, root at its size, consistency with
/// the current tree), the heads of the chains touched, and the acknowledged ids. A fresh checker
/// verifies a whole file.
struct LedgerChecker {
    let logKey: NoteVerifier
    private(set) var verifiedSize: UInt64 = 0
    private var range = CompactRange()
    /// Root recomputed from the leaves at every size seen, for checkpoints of any size.
    private var roots: [UInt64: [UInt8]] = [0: MerkleHash.emptyRoot]
    /// Chain → (last sequence, last event id) as recomputed from the entries.
    private(set) var heads: [String: (sequence: Int64, eventID: [UInt8])] = [:]
    private var checkedCheckpoints: Set<UInt64> = []
    private(set) var checkpointCount = 0

    init(logKey: NoteVerifier) { self.logKey = logKey }

    /// Verifies the store and that every id in `acknowledged` (hex) is in it exactly once.
    mutating func check(_ store: any LedgerStore, acknowledged: some Collection<String> = [String]()) throws {
        try store.read { reader in try check(reader, acknowledged: acknowledged) }
    }

    private mutating func check(_ reader: any LedgerReader, acknowledged: some Collection<String>) throws {
        let size = try reader.treeSize()
        guard size >= verifiedSize else { throw ReliabilityFailure("tree shrank from \(verifiedSize) to \(size)") }
        var touched: Set<String> = []
        var expected = verifiedSize
        try reader.forEachEntry(from: verifiedSize, to: size) { entry in
            guard entry.index == expected else {
                throw ReliabilityFailure("entry \(expected) is missing (next stored is \(entry.index))")
            }
            try checkEntry(entry, reader: reader, touched: &touched)
            expected += 1
        }
        guard expected == size else { throw ReliabilityFailure("tree size \(size) but entries stop at \(expected)") }
        verifiedSize = size

        // The stored Merkle nodes give the same root as the leaves themselves.
        let stored = try MerkleTree.rootHash(size: size, reader: reader)
        guard stored == range.rootHash else {
            throw ReliabilityFailure("stored root at \(size) differs from the leaves' root")
        }

        // Chains: the stored chain rows agree, link by link, with the entries.
        for chain in touched {
            let links = try reader.chain(chain)
            guard let head = heads[chain], let last = links.last, links.count == Int(head.sequence) + 1,
                last.eventID == head.eventID
            else { throw ReliabilityFailure("chain \(chain): stored head disagrees with the entries") }
            for (position, link) in links.enumerated() where link.sequence != Int64(position) {
                throw ReliabilityFailure("chain \(chain): sequence \(link.sequence) at position \(position)")
            }
            guard try reader.head(of: chain)?.eventID == head.eventID else {
                throw ReliabilityFailure("chain \(chain): head(of:) is not the last link")
            }
        }

        // Checkpoints: signed by the log key, root equal to the leaves' root at their size, and
        // the latest consistent with the current tree.
        let checkpoints = try reader.checkpoints()
        checkpointCount = checkpoints.count
        for stored in checkpoints where !checkedCheckpoints.contains(stored.size) {
            guard stored.size <= size else {
                throw ReliabilityFailure("checkpoint at \(stored.size) beyond tree \(size)")
            }
            let opened = try Checkpoint.open(stored.note, verifiers: [logKey], origin: TestParties.origin)
            guard opened.size == stored.size, opened.rootHash == stored.root, roots[stored.size] == stored.root else {
                throw ReliabilityFailure("checkpoint at \(stored.size) does not match the recomputed root")
            }
            checkedCheckpoints.insert(stored.size)
        }
        if let latest = try reader.latestCheckpoint(), latest.size > 0, latest.size < size {
            let proof = try MerkleTree.consistencyProof(from: latest.size, to: size, reader: reader)
            try MerkleProof.verifyConsistency(
                size1: latest.size,
                size2: size,
                proof: proof,
                root1: latest.root,
                root2: range.rootHash
            )
        }

        // Acknowledged ids: each present (the event_id column is UNIQUE, so at most once).
        for hex in acknowledged {
            guard let bytes = Hex.decode(hex), let index = try reader.entryIndex(eventID: bytes), index < size,
                try reader.entry(at: index)?.eventID == bytes
            else { throw ReliabilityFailure("acknowledged statement \(hex.prefix(12)) is not in the ledger") }
        }
    }

    private mutating func checkEntry(
        _ entry: StoredEntry,
        reader: any LedgerReader,
        touched: inout Set<String>
    ) throws {
        guard MerkleHash.leafHash(entry.bytes) == entry.leafHash else {
            throw ReliabilityFailure("entry \(entry.index): stored leaf hash does not recompute")
        }
        let parsed = try LogEntry(parsing: entry.bytes)
        let statement = parsed.statement
        guard statement.id.bytes == entry.eventID, statement.type.name == entry.type else {
            throw ReliabilityFailure("entry \(entry.index): id or type column disagrees with its bytes")
        }
        guard try reader.entryIndex(eventID: entry.eventID) == entry.index else {
            throw ReliabilityFailure("entry \(entry.index): id index points elsewhere (duplicate?)")
        }
        let chain = statement.product?.digitalLink ?? "roster"
        let head = heads[chain]
        if chain != "roster" {
            // No fork: each statement extends exactly the head before it.
            guard statement.previous?.bytes == head?.eventID else {
                throw ReliabilityFailure("entry \(entry.index): previous is not the head of \(chain): a fork")
            }
        }
        heads[chain] = ((head?.sequence ?? -1) + 1, entry.eventID)
        touched.insert(chain)
        try range.append(leafHash: entry.leafHash)
        roots[range.size] = range.rootHash
    }
}
