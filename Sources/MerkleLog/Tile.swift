/// A C2SP tlog-tiles tile: 2^8 consecutive hashes of one level of the tree, or 2^8 consecutive entries.
///
/// Tiles are how a log is read without a dynamic server: every path names content that never changes
/// (a partial tile has its width in the path), so any static host or CDN can cache them forever. A hash
/// tile at tile level `L` holds the hashes of the perfect subtrees at tree level `8·L`, which the ledger
/// already stores ([NodeID]), so tiles are a different addressing of the same nodes, not new data.
public struct Tile: Hashable, Sendable, CustomStringConvertible {
    /// Tile height fixed by C2SP tlog-tiles: 2^8 = 256 hashes or entries per full tile.
    public static let height = 8
    public static let width: UInt64 = 1 << UInt64(height)
    /// Levels 0…63 cover every tree of fewer than 2^64 leaves (tree level 8·L ≤ 63 needs L ≤ 7; C2SP
    /// allows up to 63 and this reader accepts what it allows).
    public static let maxLevel = 63

    public enum Kind: Hashable, Sendable {
        /// Hashes of tree level `8 · level`.
        case hashes(level: Int)
        /// The log's entries, each prefixed with its length as a 16-bit big-endian integer.
        case entries
    }

    public let kind: Kind
    /// Position of the tile within its level (or among entry bundles).
    public let index: UInt64
    /// How many hashes or entries it holds, 1…256; 256 is a full tile.
    public let width: UInt64

    public init(kind: Kind, index: UInt64, width: UInt64) {
        self.kind = kind
        self.index = index
        self.width = width
    }

    public var isFull: Bool { width == Tile.width }

    /// The tree level of the hashes a hash tile holds (0 for entries, which are leaf inputs).
    public var treeLevel: Int {
        if case .hashes(let level) = kind { return level * Tile.height }
        return 0
    }

    /// The path relative to the log's prefix: `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]`.
    public var path: String {
        let levelPart: String
        switch kind {
        case .hashes(let level): levelPart = String(level)
        case .entries: levelPart = "entries"
        }
        let partial = isFull ? "" : ".p/\(width)"
        return "tile/\(levelPart)/\(Tile.encodeIndex(index))\(partial)"
    }

    public var description: String { path }

    /// The perfect subtrees a hash tile holds, in order.
    public var nodes: [NodeID] {
        (0..<width).map { NodeID(level: treeLevel, index: index * Tile.width + $0) }
    }

    /// `N` as 3-digit groups, all but the last prefixed `x`: 1234067 → `x001/x234/067`.
    public static func encodeIndex(_ index: UInt64) -> String {
        var groups: [String] = []
        var rest = index
        repeat {
            let group = String(rest % 1000)
            groups.append(String(repeating: "0", count: 3 - group.count) + group)
            rest /= 1000
        } while rest > 0
        return groups.reversed().enumerated().map { $0.offset == groups.count - 1 ? $0.element : "x" + $0.element }
            .joined(separator: "/")
    }

    /// Parses a path relative to the log's prefix, accepting only the canonical spelling: no leading
    /// zeros in the level or width, 3-digit groups, width 1…255 for a partial tile. Two spellings of
    /// one tile would defeat caching and let a host serve two different contents for one tile.
    public static func parse(path: String) throws(MerkleError) -> Tile {
        var parts = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 3, parts[0] == "tile" else {
            throw MerkleError(.malformedTilePath, "\"\(path)\" does not start with tile/<level>/")
        }
        let kind: Kind
        if parts[1] == "entries" {
            kind = .entries
        } else {
            guard let level = canonicalDecimal(parts[1]), level <= UInt64(maxLevel) else {
                throw MerkleError(
                    .malformedTilePath,
                    "tile level \"\(parts[1])\" in \"\(path)\" is not a decimal 0…\(maxLevel)"
                )
            }
            kind = .hashes(level: Int(level))
        }
        parts.removeFirst(2)
        var width = Tile.width
        if parts.count >= 2, parts[parts.count - 2].hasSuffix(".p") {
            guard let partial = canonicalDecimal(parts[parts.count - 1]), partial >= 1, partial < Tile.width else {
                throw MerkleError(
                    .malformedTilePath,
                    "partial width \"\(parts[parts.count - 1])\" in \"\(path)\" is not 1…255"
                )
            }
            width = partial
            parts.removeLast()
            parts[parts.count - 1].removeLast(2)
        }
        var index: UInt64 = 0
        for (position, group) in parts.enumerated() {
            let last = position == parts.count - 1
            let digits = last ? Substring(group) : group.hasPrefix("x") ? group.dropFirst() : ""
            guard digits.count == 3, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let value = UInt64(digits) else {
                throw MerkleError(
                    .malformedTilePath,
                    "index element \"\(group)\" in \"\(path)\" is not \(last ? "3 digits" : "x and 3 digits")"
                )
            }
            let (scaled, overflow1) = index.multipliedReportingOverflow(by: 1000)
            let (sum, overflow2) = scaled.addingReportingOverflow(value)
            guard !overflow1, !overflow2 else {
                throw MerkleError(.malformedTilePath, "the tile index in \"\(path)\" passes 2^64 − 1")
            }
            index = sum
        }
        let tile = Tile(kind: kind, index: index, width: width)
        guard tile.path == path else {
            throw MerkleError(.malformedTilePath, "\"\(path)\" is not the canonical spelling \"\(tile.path)\"")
        }
        return tile
    }

    /// The tiles of a tree of `size` leaves: for every level, the full tiles and, where the level's
    /// node count is not a multiple of 256, one partial tile, for every level that has a node; `since` gives only the tiles that changed since a tree of that size was tiled.
    public static func hashTiles(treeSize size: UInt64, since oldSize: UInt64 = 0) -> [Tile] {
        var tiles: [Tile] = []
        var level = 0
        while level <= maxLevel {
            let shift = UInt64(level * height)
            guard shift < 64 else { break }
            let count = size >> shift
            let oldCount = oldSize >> shift
            if count == 0 { break }
            // A level of exactly 256 nodes still has a level above it: its one node (the root of
            // those 256) is what a proof asks for.
            tiles += changedTiles(kind: .hashes(level: level), count: count, oldCount: oldCount)
            level += 1
        }
        return tiles
    }

    /// The entry bundles of a log of `size` entries that changed since `oldSize`.
    public static func entryTiles(treeSize size: UInt64, since oldSize: UInt64 = 0) -> [Tile] {
        changedTiles(kind: .entries, count: size, oldCount: oldSize)
    }

    private static func changedTiles(kind: Kind, count: UInt64, oldCount: UInt64) -> [Tile] {
        guard count > oldCount || oldCount == 0 else { return [] }
        let first = oldCount / Tile.width
        let last = (count - 1) / Tile.width
        return (first...last).map { index in
            let width = min(Tile.width, count - index * Tile.width)
            return Tile(kind: kind, index: index, width: width)
        }
    }

    private static func canonicalDecimal(_ text: String) -> UInt64? {
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }), text == "0" || !text.hasPrefix("0")
        else { return nil }
        return UInt64(text)
    }
}

/// The bytes of tiles: hash tiles are concatenated 32-byte hashes; entry bundles are each entry
/// prefixed with its length as a 16-bit big-endian integer (C2SP tlog-tiles).
public enum TileData {
    /// The largest entry an entry bundle can hold.
    public static let maxEntryBytes = 65_535

    public static func encodeHashes(_ hashes: [[UInt8]]) -> [UInt8] {
        hashes.flatMap { $0 }
    }

    public static func decodeHashes(_ bytes: [UInt8], tile: Tile) throws(MerkleError) -> [[UInt8]] {
        guard bytes.count == Int(tile.width) * MerkleHash.byteCount else {
            throw MerkleError(
                .malformedTile,
                "\(tile.path) has \(bytes.count) bytes, expected \(tile.width) × 32"
            )
        }
        return stride(from: 0, to: bytes.count, by: MerkleHash.byteCount).map {
            Array(bytes[$0..<$0 + MerkleHash.byteCount])
        }
    }

    public static func encodeEntries(_ entries: [[UInt8]]) throws(MerkleError) -> [UInt8] {
        var out: [UInt8] = []
        for (offset, entry) in entries.enumerated() {
            guard entry.count <= maxEntryBytes else {
                throw MerkleError(
                    .malformedTile,
                    "entry \(offset) of the bundle has \(entry.count) bytes; tlog-tiles bundles hold at most 65,535"
                )
            }
            out.append(UInt8(entry.count >> 8))
            out.append(UInt8(entry.count & 0xff))
            out += entry
        }
        return out
    }

    public static func decodeEntries(_ bytes: [UInt8], tile: Tile) throws(MerkleError) -> [[UInt8]] {
        var entries: [[UInt8]] = []
        var position = 0
        while position < bytes.count {
            guard position + 2 <= bytes.count else {
                throw MerkleError(.malformedTile, "\(tile.path) ends inside the length of entry \(entries.count)")
            }
            let length = Int(bytes[position]) << 8 | Int(bytes[position + 1])
            position += 2
            guard position + length <= bytes.count else {
                throw MerkleError(
                    .malformedTile,
                    "\(tile.path): entry \(entries.count) claims \(length) bytes past the end"
                )
            }
            entries.append(Array(bytes[position..<position + length]))
            position += length
        }
        guard entries.count == Int(tile.width) else {
            throw MerkleError(.malformedTile, "\(tile.path) holds \(entries.count) entries, expected \(tile.width)")
        }
        return entries
    }
}

/// Perfect-subtree hashes read from hash tiles, so every ``MerkleTree`` computation (roots, inclusion
/// and consistency proofs) runs over a static tile host as it runs over the database.
///
/// Nothing a tile says is trusted: whatever is computed from it must be checked against a signed
/// checkpoint by the caller (a wrong tile gives a proof that fails, never a wrong answer that passes).
/// Levels between tile levels are folded from the tile below, as RFC 9162 defines them.
public final class TileNodeReader: MerkleNodeReader {
    public let treeSize: UInt64
    private let fetch: (Tile) throws -> [UInt8]
    private var cache: [Tile: [[UInt8]]] = [:]

    /// - Parameter fetch: returns the bytes at a tile's path (a file, an HTTP GET).
    public init(treeSize: UInt64, fetch: @escaping (Tile) throws -> [UInt8]) {
        self.treeSize = treeSize
        self.fetch = fetch
    }

    public func hashes(of nodes: [NodeID]) throws -> [NodeID: [UInt8]] {
        var result: [NodeID: [UInt8]] = [:]
        for node in nodes {
            if let hash = try hash(of: node) { result[node] = hash }
        }
        return result
    }

    /// The tile that holds the hashes of tree level `8·level` around `index`, as wide as the tree
    /// allows, or nil when the tree has no such node.
    public func tile(level: Int, holding index: UInt64) -> Tile? {
        let shift = UInt64(level * Tile.height)
        guard shift < 64 else { return nil }
        let count = treeSize >> shift
        guard index < count else { return nil }
        let tileIndex = index / Tile.width
        return Tile(
            kind: .hashes(level: level),
            index: tileIndex,
            width: min(Tile.width, count - tileIndex * Tile.width)
        )
    }

    private func hash(of node: NodeID) throws -> [UInt8]? {
        guard node.level >= 0, node.level < 64, node.index < treeSize >> UInt64(node.level) else { return nil }
        let tileLevel = node.level / Tile.height
        let below = node.level % Tile.height
        let span = UInt64(1) << UInt64(below)
        let first = node.index * span
        guard let tile = tile(level: tileLevel, holding: first + span - 1) else { return nil }
        let hashes = try tileHashes(tile)
        var layer = (0..<span).map { hashes[Int(first % Tile.width + $0)] }
        while layer.count > 1 {
            layer = stride(from: 0, to: layer.count, by: 2).map { MerkleHash.nodeHash(layer[$0], layer[$0 + 1]) }
        }
        return layer[0]
    }

    private func tileHashes(_ tile: Tile) throws -> [[UInt8]] {
        if let cached = cache[tile] { return cached }
        let hashes = try TileData.decodeHashes(try fetch(tile), tile: tile)
        cache[tile] = hashes
        return hashes
    }
}
