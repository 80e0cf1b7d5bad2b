import CanonicalJSON
import Dispatch
import MerkleLog
import RetraceCrypto
import RetraceEvents
import RetraceStorage
import Synchronization
import VerifiableMap

/// The heads map of a ledger at a given tree size, kept in memory and moved forward with the log.
///
/// The map is a function of the log alone (spec/format.md §5.2): each entry sets the head of the
/// chains it extends. It is built once per process, from the derived chain rows when a signed heads
/// root can vouch for them (one read, no parsing) and from the entries otherwise, then advanced by
/// reading only new entries. A few recent versions are kept: they share all but their changed
/// paths, so the writer's version and the latest checkpoint's cost little more than one.
public final class HeadsIndex: Sendable {
    /// One version of the map: the map over entries `[0, size)`.
    public struct Version: Sendable {
        public let size: UInt64
        public let map: HeadsMap
    }

    private let versions: Mutex<[Version]>
    static let keptVersions = 4

    public init() { versions = Mutex([]) }

    /// The map over entries `[0, size)` of `reader`'s log.
    public func map(at size: UInt64, reader: any LedgerReader) throws -> HeadsMap {
        let known = versions.withLock { $0 }
        if let exact = known.first(where: { $0.size == size }) {
            remember(exact)
            return exact.map
        }
        let version: Version
        if let below = known.filter({ $0.size < size }).max(by: { $0.size < $1.size }) {
            version = try Self.advance(below, to: size, reader: reader)
        } else {
            version = try Self.build(size: size, reader: reader)
        }
        remember(version)
        return version.map
    }

    /// Keeps a version (one just built, advanced or used, or one a writer computed itself after
    /// its transaction committed), forgetting the least recently used beyond ``keptVersions``.
    ///
    /// By use, not by size: a verifier that keeps the largest versions threw away the one it had
    /// just built whenever it was asked about a checkpoint older than those it held, and so built
    /// the whole map again (a read of every chain's head) for each next checkpoint: 70–80 ms of
    /// CPU per scan at 10^5 entries in the benchmark's moved-head column.
    public func remember(_ version: Version) {
        let dropped = versions.withLock { list in
            var dropped = list.filter { $0.size == version.size }
            list.removeAll { $0.size == version.size }
            list.insert(version, at: 0)
            if list.count > Self.keptVersions {
                dropped += list[Self.keptVersions...]
                list.removeLast(list.count - Self.keptVersions)
            }
            return dropped
        }
        Self.release(dropped)
    }

    /// Releases dropped versions on a thread of their own. A dropped version still holds the nodes
    /// no kept version shares (every path the appends since then changed: some 20,000 for a
    /// commit of 1,000 events at 10^6 chains), and freeing them one by one was 3.5 % of the commit
    /// thread generating the 10^6-event benchmark ledger (issue 15), done with the lock held.
    private static func release(_ dropped: [Version]) {
        guard !dropped.isEmpty else { return }
        releaser.async { withExtendedLifetime(dropped) {} }
    }

    private static let releaser = DispatchQueue(label: "retrace.heads-index.release", qos: .utility)

    /// Forgets every version: after a failure that may have come from a map built on bad rows.
    public func removeAll() { versions.withLock { $0.removeAll() } }

    // MARK: Building

    /// The map at `size` from scratch. The chain rows are used when the latest checkpoint at or
    /// below `size` carries a heads root they reproduce; otherwise the entries are replayed.
    static func build(size: UInt64, reader: any LedgerReader) throws -> Version {
        // The checkpoint at exactly this size (a verifier asks at checkpoint sizes, in any order),
        // else the latest one below it (a writer asks at the tree size).
        var vouching = try reader.checkpoint(size: size)
        if vouching == nil, let latest = try reader.latestCheckpoint(), latest.size <= size { vouching = latest }
        if let stored = vouching, let signedRoot = headsRoot(of: stored) {
            let fromRows = try fromChainHeads(size: stored.size, reader: reader)
            let base =
                fromRows.map.root == signedRoot
                ? fromRows : try replay(from: Version(size: 0, map: HeadsMap()), to: stored.size, reader: reader)
            return try advance(base, to: size, reader: reader)
        }
        return try replay(from: Version(size: 0, map: HeadsMap()), to: size, reader: reader)
    }

    /// The heads root a stored checkpoint's note carries (its signature is the verifier's business:
    /// a wrong root here only makes the map be replayed from the entries).
    static func headsRoot(of stored: StoredCheckpoint) -> [UInt8]? {
        guard let note = try? SignedNote(parsing: stored.note), let checkpoint = try? Checkpoint(parsing: note.text)
        else { return nil }
        return checkpoint.headsRoot
    }

    public static func fromChainHeads(size: UInt64, reader: any LedgerReader) throws -> Version {
        let heads = try reader.chainHeads(below: size)
        let entries = try heads.map { link in
            (
                key: mapKey(chain: link.chain),
                value: try HeadValue(eventID: link.eventID, count: UInt64(link.sequence + 1), index: link.index)
            )
        }
        return Version(size: size, map: try HeadsMap(entries: entries))
    }

    static func advance(_ version: Version, to size: UInt64, reader: any LedgerReader) throws -> Version {
        guard version.size < size else { return version }
        return try replay(from: version, to: size, reader: reader)
    }

    /// Applies entries `[version.size, size)` one by one: the log-only definition of the map.
    static func replay(from version: Version, to size: UInt64, reader: any LedgerReader) throws -> Version {
        var map = version.map
        try reader.forEachEntry(from: version.size, to: size) { stored in
            try apply(stored, to: &map)
        }
        return Version(size: size, map: map)
    }

    /// Sets the head of every chain the entry extends: the roster's for a roster statement, the
    /// GTIN's class chain for a product-class statement, the product's, or each batch member's.
    public static func apply(_ stored: StoredEntry, to map: inout HeadsMap) throws {
        for key in try chainKeys(stored) {
            let count = (map.value(key)?.count ?? 0) + 1
            try map.set(key, try HeadValue(eventID: stored.eventID, count: count, index: stored.index))
        }
    }

    /// The map key of a stored chain: `roster`, `class/{gtin}` or a product's Digital Link.
    public static func mapKey(chain: String) -> [UInt8] {
        if chain == Ledger.rosterChain { return MapKey.roster }
        if chain.hasPrefix(classChainPrefix) {
            return MapKey.productClass(String(chain.dropFirst(classChainPrefix.count)))
        }
        return MapKey.product(chain)
    }

    static let classChainPrefix = Statement.classChain(gtin: "")

    /// The map keys of the chains an entry extends (``SignedStatement/forEachChain(_:)``), in order.
    public static func chainKeys(_ stored: StoredEntry) throws -> [[UInt8]] {
        let entry: LogEntry
        do {
            entry = try LogEntry(parsing: stored.bytes, members: BatchMember.parsing(stored.members))
        } catch {
            throw LedgerError(.malformed, "entry \(stored.index) does not parse strictly: \(error)")
        }
        var keys: [[UInt8]] = []
        entry.signed.forEachChain { chain, _ in keys.append(chain.mapKeyDigest.bytes) }
        guard !keys.isEmpty else {
            throw LedgerError(
                .malformed,
                "entry \(stored.index) extends no chain: a \(entry.statement.type.name) statement with no product, "
                    + "no members and no details.gtin"
            )
        }
        return keys
    }
}

extension Chain {
    /// The chain's key in the heads map (spec/format.md §5.2), held inline.
    public var mapKeyDigest: SHA256Digest {
        switch self {
        case .roster: MapKey.rosterDigest
        case .productClass(let gtin): MapKey.productClassDigest(gtin)
        case .product(let product): MapKey.productDigest(product.digitalLink)
        }
    }

    /// The name the store keeps the chain's links under: `roster`, `class/{GTIN-14}` or the
    /// product's canonical Digital Link.
    public var name: String {
        switch self {
        case .roster: Ledger.rosterChain
        case .productClass(let gtin): Statement.classChain(gtin: gtin)
        case .product(let product): product.digitalLink
        }
    }
}
