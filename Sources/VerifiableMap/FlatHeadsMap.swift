import RetraceCrypto

/// The heads map — the same tree, so the same roots, as ``HeadsMap`` — for one owner that replays
/// a log: its nodes held in two arrays and updated in place, keys and values inline.
///
/// An audit recomputes the map at each checkpoint of the log it replays (about a thousand at 10^6
/// entries), walking the paths of the chains each interval touched. With ``HeadsMap``'s nodes, an
/// object each and three per leaf (the node, its key, its event id), that walk was 5 % of an
/// audit's CPU at 10^6 entries, most of it the first touch of nodes scattered over the heap: a
/// reference count written, a uniqueness check (issue 15). Here a branch is 80 bytes (its
/// children's places and hashes) and a leaf 112, packed in two arrays, and nothing is shared, so
/// nothing is counted or copied.
/// ``HeadsMap`` stays the map that proves, and that a writer shares across versions.
public struct FlatHeadsMap: Sendable {
    /// A chain's head: the value ``HeadsMap`` holds under `key`, inline.
    public struct Head: Sendable, Equatable {
        public let key: SHA256Digest
        public let eventID: SHA256Digest
        public let count: UInt64
        public let index: UInt64

        public init(key: SHA256Digest, eventID: SHA256Digest, count: UInt64, index: UInt64) throws(MapError) {
            guard count >= 1 else { throw MapError(.malformedValue, "a head counts at least one event") }
            self.key = key
            self.eventID = eventID
            self.count = count
            self.index = index
        }

        /// This head moved on by `later`, which counts the events gained since.
        func advanced(by later: Head) throws(MapError) -> Head {
            try Head(
                key: key,
                eventID: later.eventID,
                count: HeadValue.count(count, plus: later.count),
                index: later.index
            )
        }
    }

    /// A key as four big-endian words, most significant first: the order of the words is the
    /// bytewise order of the keys, and bit `depth` is a shift.
    private struct Path: Comparable {
        let words: (UInt64, UInt64, UInt64, UInt64)

        init(_ key: SHA256Digest) {
            words = key.withUnsafeBytes { bytes in
                (
                    UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
                    UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self)),
                    UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 16, as: UInt64.self)),
                    UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
                )
            }
        }

        /// Bit `depth` of the key, counted from the first byte's most significant bit, as
        /// ``MapKey/bit(_:_:)``.
        func bit(_ depth: Int) -> Bool {
            let word: UInt64
            switch depth >> 6 {
            case 0: word = words.0
            case 1: word = words.1
            case 2: word = words.2
            default: word = words.3
            }
            return word >> UInt64(63 - (depth & 63)) & 1 == 1
        }

        static func == (a: Path, b: Path) -> Bool {
            a.words.0 == b.words.0 && a.words.1 == b.words.1 && a.words.2 == b.words.2 && a.words.3 == b.words.3
        }

        static func < (a: Path, b: Path) -> Bool {
            if a.words.0 != b.words.0 { return a.words.0 < b.words.0 }
            if a.words.1 != b.words.1 { return a.words.1 < b.words.1 }
            if a.words.2 != b.words.2 { return a.words.2 < b.words.2 }
            return a.words.3 < b.words.3
        }
    }

    /// A branch holds its children's hashes, not only their places: an update recomputes the
    /// branches on its paths, and reading each sibling's hash from the sibling itself touched a
    /// node off the path, out of cache at 10^6 entries, at every level.
    private struct Branch {
        var left: Reference
        var right: Reference
        var leftHash: SHA256Digest
        var rightHash: SHA256Digest
    }

    /// A child: 0 for an empty subtree, `n > 0` for `branches[n - 1]`, `n < 0` for `leaves[-n - 1]`.
    private typealias Reference = Int

    private var branches: [Branch] = []
    private var leaves: [Head] = []
    private var top: Reference = 0
    private var topHash = SHA256Digest.zero

    /// The leaf and branch digests this map has computed since it was made: an update costs one
    /// per node on the paths it changes, not one per key. The benchmark's audit floor counts them
    /// as hashing any audit of the map must do, whatever its code (issue 15).
    public private(set) var digestsComputed = (leaves: 0, branches: 0)

    public init() {}

    /// The same keys and values as `map`.
    public init(_ map: HeadsMap) throws(MapError) {
        var heads: [Head] = []
        heads.reserveCapacity(map.count)
        try map.forEachLeaf { (key, value) throws(MapError) in
            guard let key = SHA256Digest(key), let eventID = SHA256Digest(value.eventID) else {
                throw MapError(.malformedValue, "a key or event id of the map is not 32 bytes")
            }
            heads.append(try Head(key: key, eventID: eventID, count: value.count, index: value.index))
        }
        // A trie's leaves in order are in key order.
        let items = heads.map { (path: Path($0.key), head: $0) }
        (top, topHash) = build(items[...], depth: 0, reusing: nil)
    }

    /// How many keys the map holds.
    public var count: Int { leaves.count }

    /// The root hash, as ``HeadsMap/root``.
    public var root: [UInt8] { topHash.bytes }

    /// Moves each key's head on, as ``HeadsMap/advance(all:)`` does: its event id and index become
    /// `head`'s, and its count grows by `head.count` (a new key starts at `head.count`). Keys must
    /// not repeat. On an error (a key repeated, a count that overflows) the map may be left partly
    /// updated and must not be used further.
    public mutating func advance(all heads: [Head]) throws(MapError) {
        guard !heads.isEmpty else { return }
        // Sorted as (key, position) pairs, then gathered: sorting the 144-byte items themselves
        // moved them about a dozen times each.
        let order = heads.indices.map { (path: Path(heads[$0].key), position: $0) }.sorted { $0.path < $1.path }
        let sorted = order.map { (path: $0.path, head: heads[$0.position]) }
        for (earlier, later) in zip(sorted, sorted.dropFirst()) where earlier.path == later.path {
            throw MapError(.malformedValue, "a key is advanced twice in one update")
        }
        (top, topHash) = try update(top, topHash, sorted[...], depth: 0)
    }

    private typealias Item = (path: Path, head: Head)

    /// `items`, sorted by key and all under the subtree `reference` (whose hash is `hash`) at
    /// `depth`, merged into it: the subtree's place and new hash.
    private mutating func update(
        _ reference: Reference,
        _ hash: SHA256Digest,
        _ items: ArraySlice<Item>,
        depth: Int
    ) throws(MapError) -> (Reference, SHA256Digest) {
        if items.isEmpty { return (reference, hash) }
        if reference == 0 { return build(items, depth: depth, reusing: nil) }
        if reference < 0 {
            let slot = -reference - 1
            let old = leaves[slot]
            let oldPath = Path(old.key)
            var merged = Array(items)
            if let same = merged.firstIndex(where: { $0.path == oldPath }) {
                merged[same].head = try old.advanced(by: merged[same].head)
            } else {
                let at = merged.firstIndex { oldPath < $0.path } ?? merged.endIndex
                merged.insert((oldPath, old), at: at)
            }
            // The subtree's shape is a function of its keys: built afresh, the old leaf's slot
            // kept for its key.
            return build(merged[...], depth: depth, reusing: (slot, oldPath))
        }
        var branch = branches[reference - 1]
        let split = Self.firstSet(items, depth: depth)
        (branch.left, branch.leftHash) = try update(
            branch.left,
            branch.leftHash,
            items[..<split],
            depth: depth + 1
        )
        (branch.right, branch.rightHash) = try update(
            branch.right,
            branch.rightHash,
            items[split...],
            depth: depth + 1
        )
        branches[reference - 1] = branch
        digestsComputed.branches += 1
        return (reference, MapHash.nodeDigest(branch.leftHash, branch.rightHash))
    }

    /// The subtree of `items` (sorted, distinct) at `depth`, its place and hash; the leaf of
    /// `reusing`'s key is written into its old slot.
    private mutating func build(
        _ items: ArraySlice<Item>,
        depth: Int,
        reusing: (slot: Int, path: Path)?
    ) -> (Reference, SHA256Digest) {
        guard let first = items.first else { return (0, .zero) }
        if items.count == 1 {
            digestsComputed.leaves += 1
            let hash = Self.leafDigest(first.head)
            if let reusing, reusing.path == first.path {
                leaves[reusing.slot] = first.head
                return (-(reusing.slot + 1), hash)
            }
            leaves.append(first.head)
            return (-leaves.count, hash)
        }
        let split = Self.firstSet(items, depth: depth)
        let (left, leftHash) = build(items[..<split], depth: depth + 1, reusing: reusing)
        let (right, rightHash) = build(items[split...], depth: depth + 1, reusing: reusing)
        branches.append(Branch(left: left, right: right, leftHash: leftHash, rightHash: rightHash))
        digestsComputed.branches += 1
        return (branches.count, MapHash.nodeDigest(leftHash, rightHash))
    }

    /// The first of `items` (sorted by key) whose bit `depth` is set.
    private static func firstSet(_ items: ArraySlice<Item>, depth: Int) -> Int {
        var low = items.startIndex
        var high = items.endIndex
        while low < high {
            let middle = (low + high) / 2
            if items[middle].path.bit(depth) { high = middle } else { low = middle + 1 }
        }
        return low
    }

    /// ``MapHash/leaf(key:value:)`` of a head held inline.
    private static func leafDigest(_ head: Head) -> SHA256Digest {
        head.key.withUnsafeBytes { key in
            head.eventID.withUnsafeBytes { eventID in
                HeadValue.withEncodedBytes(eventID: eventID, count: head.count, index: head.index) {
                    MapHash.leafDigest(key: key, encodedValue: $0)
                }
            }
        }
    }
}
