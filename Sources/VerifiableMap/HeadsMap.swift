import RetraceCrypto

/// A sparse Merkle tree over 256-bit keys with shortcut leaves: the commitment every checkpoint
/// carries to every chain's head (spec/format.md §5.2).
///
/// A subtree with no key hashes to ``MapHash/empty``; a subtree with exactly one key is that key's
/// leaf, placed where it first stands alone (not 256 levels down), so the tree is about log2(n)
/// deep and a proof carries only that many siblings. The shape is a function of the set of keys,
/// so any insertion order gives the same root.
///
/// The value is persistent: an update copies the O(log n) nodes on its path and shares the rest,
/// so a writer can try a batch on a copy and drop it if the batch is refused (a savepoint rolled
/// back) at no cost, and a reader keeps a version while the writer moves on.
public struct HeadsMap: Sendable {
    /// Immutable once shared. ``HeadsMap/set(all:)`` changes a node in place only while the map
    /// updating it holds the one reference to it (`isKnownUniquelyReferenced`, as Swift's own
    /// copy-on-write collections do): no other version, and so no other thread, can reach it.
    final class Node: @unchecked Sendable {
        /// Inline, not an array: a node is one allocation, and an update rebuilds ~log2(n) of them.
        fileprivate(set) var hash: SHA256Digest
        fileprivate(set) var kind: Kind

        enum Kind: Sendable {
            case leaf(key: [UInt8], value: HeadValue)
            case branch(left: Node?, right: Node?)
        }

        init(leaf key: [UInt8], value: HeadValue) {
            self.hash = MapHash.leafDigest(key: key, value: value)
            self.kind = .leaf(key: key, value: value)
        }

        init(left: Node?, right: Node?) {
            self.hash = MapHash.nodeDigest(left?.hash ?? .zero, right?.hash ?? .zero)
            self.kind = .branch(left: left, right: right)
        }
    }

    private var top: Node?
    /// How many keys the map holds.
    public private(set) var count: Int

    public init() {
        top = nil
        count = 0
    }

    /// The root hash; ``MapHash/empty`` for an empty map.
    public var root: [UInt8] { top?.hash.bytes ?? MapHash.empty }

    /// Sets `key`'s value (inserting the key if new).
    public mutating func set(_ key: [UInt8], _ value: HeadValue) throws(MapError) {
        try Self.requireMapKey(key)
        var inserted = false
        top = Self.set(top, key: key, value: value, depth: 0, inserted: &inserted)
        if inserted { count += 1 }
    }

    private static func set(_ node: Node?, key: [UInt8], value: HeadValue, depth: Int, inserted: inout Bool) -> Node {
        guard let node else {
            inserted = true
            return Node(leaf: key, value: value)
        }
        switch node.kind {
        case .leaf(let other, _):
            if other == key { return Node(leaf: key, value: value) }
            inserted = true
            return split(Node(leaf: key, value: value), key, node, other, depth: depth)
        case .branch(let left, let right):
            if MapKey.bit(key, depth) {
                return Node(
                    left: left,
                    right: set(right, key: key, value: value, depth: depth + 1, inserted: &inserted)
                )
            }
            return Node(left: set(left, key: key, value: value, depth: depth + 1, inserted: &inserted), right: right)
        }
    }

    /// Sets many keys at once, as many ``set(_:_:)`` calls would (a key given twice keeps its last
    /// value), but rebuilding each node on the union of their paths once: the paths of a commit's
    /// keys share their upper levels, so a batch of a thousand keys hashes and allocates about half
    /// the nodes the one-by-one updates would (the append path's map cost, issue 11).
    public mutating func set(all updates: [(key: [UInt8], value: HeadValue)]) throws(MapError) {
        for update in updates { try Self.requireMapKey(update.key) }
        guard !updates.isEmpty else { return }
        let sorted = Self.sortedLastOfEachKey(updates)
        var inserted = 0
        try Self.set(&top, sorted[...], depth: 0, adding: false, inserted: &inserted)
        count += inserted
    }

    /// Moves each key's head on by the events given for it: its value becomes `head`'s event id
    /// and index, and its count grows by `head.count` (a new key starts at `head.count`). Keys
    /// must not repeat.
    ///
    /// For a reader that replays a log and knows how many events each chain gained since it last
    /// updated the map, but not the counts before them: looking each count up as the event came
    /// walked the tree once per event, a cache miss per level at 10^6 entries (issue 15); here the
    /// old count is read where the update's path reaches the old leaf anyway.
    public mutating func advance(all heads: [(key: [UInt8], value: HeadValue)]) throws(MapError) {
        for head in heads { try Self.requireMapKey(head.key) }
        guard !heads.isEmpty else { return }
        let sorted = heads.sorted { Bytewise.precedes($0.key, $1.key) }
        for (earlier, later) in zip(sorted, sorted.dropFirst()) where earlier.key == later.key {
            throw MapError(.malformedValue, "a key is advanced twice in one update")
        }
        var inserted = 0
        try Self.set(&top, sorted[...], depth: 0, adding: true, inserted: &inserted)
        count += inserted
    }

    /// `updates` sorted by key, all under `node`'s subtree at `depth`.
    ///
    /// A node this map alone holds is updated in place; one shared with another version is
    /// copied, its untouched side shared. An audit's map is never shared, and rebuilding every
    /// node on the paths of a checkpoint's keys allocated and freed about 3.6 nodes per audited
    /// entry, out of cache at 10^6 entries (issue 15).
    ///
    /// With `adding`, an update's count is what the key gained: added to the count of the key's
    /// old leaf, if there is one.
    private static func set(
        _ node: inout Node?,
        _ updates: ArraySlice<(key: [UInt8], value: HeadValue)>,
        depth: Int,
        adding: Bool,
        inserted: inout Int
    ) throws(MapError) {
        if updates.isEmpty { return }
        guard var current = node else {
            inserted += updates.count
            node = build(updates, depth: depth)
            return
        }
        // `current` now holds the reference `node` held: unique if no other version shares it.
        node = nil
        let unique = isKnownUniquelyReferenced(&current)
        switch current.kind {
        case .leaf(let other, let value):
            if let replacing = updates.firstIndex(where: { $0.key == other }) {
                let new = adding ? try value.advanced(by: updates[replacing].value) : updates[replacing].value
                if unique, updates.count == 1 {
                    current.kind = .leaf(key: other, value: new)
                    current.hash = MapHash.leafDigest(key: other, value: new)
                    node = current
                    return
                }
                // The subtree's keys are the updates plus the existing leaf unless one replaces
                // it: its shape is a function of that set, so build it afresh.
                var updates = updates
                updates[replacing].value = new
                inserted += updates.count - 1
                node = build(updates, depth: depth)
                return
            }
            inserted += updates.count
            var merged = Array(updates)
            let at = merged.firstIndex { !Bytewise.precedes($0.key, other) } ?? merged.endIndex
            merged.insert((key: other, value: value), at: at)
            node = build(merged[...], depth: depth)
        case .branch(var left, var right):
            var low = updates.startIndex
            var high = updates.endIndex
            while low < high {
                let middle = (low + high) / 2
                if MapKey.bit(updates[middle].key, depth) { high = middle } else { low = middle + 1 }
            }
            // A unique node lets go of its children first, so that they can be unique below too.
            if unique { current.kind = .branch(left: nil, right: nil) }
            try set(&left, updates[updates.startIndex..<low], depth: depth + 1, adding: adding, inserted: &inserted)
            try set(&right, updates[low...], depth: depth + 1, adding: adding, inserted: &inserted)
            if unique {
                current.kind = .branch(left: left, right: right)
                current.hash = MapHash.nodeDigest(left?.hash ?? .zero, right?.hash ?? .zero)
                node = current
            } else {
                node = Node(left: left, right: right)
            }
        }
    }

    /// Two leaves that shared a subtree at `depth`: branches down to the first bit where their keys differ.
    private static func split(_ a: Node, _ aKey: [UInt8], _ b: Node, _ bKey: [UInt8], depth: Int) -> Node {
        let aBit = MapKey.bit(aKey, depth)
        if aBit != MapKey.bit(bKey, depth) {
            return aBit ? Node(left: b, right: a) : Node(left: a, right: b)
        }
        let below = split(a, aKey, b, bKey, depth: depth + 1)
        return aBit ? Node(left: nil, right: below) : Node(left: below, right: nil)
    }

    /// The value of `key`, or `nil`.
    public func value(_ key: [UInt8]) -> HeadValue? {
        guard key.count == MapKey.byteCount else { return nil }
        var node = top
        var depth = 0
        while let current = node {
            // Only the child taken is bound: binding both retained and released the other one at
            // every level (a replay of the log looks each entry's chain count up here; issue 15).
            if MapKey.bit(key, depth) {
                if case .branch(_, let right) = current.kind {
                    node = right
                    depth += 1
                    continue
                }
            } else if case .branch(let left, _) = current.kind {
                node = left
                depth += 1
                continue
            }
            guard case .leaf(let other, let value) = current.kind else { return nil }
            return other == key ? value : nil
        }
        return nil
    }

    /// The proof of `key`'s value or of its absence, against ``root``.
    public func proof(_ key: [UInt8]) throws(MapError) -> MapProof {
        try Self.requireMapKey(key)
        var siblings: [[UInt8]?] = []
        var node = top
        var depth = 0
        while let current = node {
            switch current.kind {
            case .leaf(let other, let value):
                return MapProof(
                    siblings: siblings,
                    terminal: other == key ? .member(value) : .otherLeaf(key: other, value: value)
                )
            case .branch(let left, let right):
                let goRight = MapKey.bit(key, depth)
                siblings.append((goRight ? left : right)?.hash.bytes)
                node = goRight ? right : left
                depth += 1
            }
        }
        return MapProof(siblings: siblings, terminal: .empty)
    }
}

extension HeadsMap {
    /// Builds the map of many keys at once: sorted, then each node hashed once (2n hashes, where
    /// inserting one by one costs n·log n). A key given twice keeps its last value.
    public init(entries: [(key: [UInt8], value: HeadValue)]) throws(MapError) {
        for entry in entries { try Self.requireMapKey(entry.key) }
        let sorted = Self.sortedLastOfEachKey(entries)
        self.init()
        top = Self.build(sorted[...], depth: 0)
        count = sorted.count
    }

    /// Refuses a key that is not a map key's length, before anything is changed.
    static func requireMapKey(_ key: [UInt8]) throws(MapError) {
        guard key.count == MapKey.byteCount else {
            throw MapError(.malformedValue, "a map key is \(key.count) bytes, expected \(MapKey.byteCount)")
        }
    }

    /// `updates` in bytewise key order, a key given more than once kept with its last value. By a
    /// stable sort and one pass over the runs of equal keys, not a dictionary first: hashing a
    /// 32-byte array feeds the hasher one byte at a time, and the keys are sorted anyway (issue 15).
    static func sortedLastOfEachKey(
        _ updates: [(key: [UInt8], value: HeadValue)]
    ) -> [(key: [UInt8], value: HeadValue)] {
        // `sort` is stable: of equal keys, the one given last stays last.
        let sorted = updates.sorted { Bytewise.precedes($0.key, $1.key) }
        var unique: [(key: [UInt8], value: HeadValue)] = []
        unique.reserveCapacity(sorted.count)
        for update in sorted {
            if let last = unique.last, last.key == update.key {
                unique[unique.count - 1] = update
            } else {
                unique.append(update)
            }
        }
        return unique
    }

    private static func build(_ slice: ArraySlice<(key: [UInt8], value: HeadValue)>, depth: Int) -> Node? {
        if slice.isEmpty { return nil }
        if slice.count == 1, let only = slice.first { return Node(leaf: only.key, value: only.value) }
        // Sorted keys: those with bit `depth` clear come first; find the first with it set.
        var low = slice.startIndex
        var high = slice.endIndex
        while low < high {
            let middle = (low + high) / 2
            if MapKey.bit(slice[middle].key, depth) { high = middle } else { low = middle + 1 }
        }
        return Node(
            left: build(slice[slice.startIndex..<low], depth: depth + 1),
            right: build(slice[low...], depth: depth + 1)
        )
    }
}

extension HeadsMap {
    /// Every key and value, in key order (a trie's leaves from left to right).
    func forEachLeaf<Failure: Error>(_ body: ([UInt8], HeadValue) throws(Failure) -> Void) throws(Failure) {
        var stack: [Node] = top.map { [$0] } ?? []
        while let node = stack.popLast() {
            switch node.kind {
            case .leaf(let key, let value): try body(key, value)
            case .branch(let left, let right):
                if let right { stack.append(right) }
                if let left { stack.append(left) }
            }
        }
    }
}
