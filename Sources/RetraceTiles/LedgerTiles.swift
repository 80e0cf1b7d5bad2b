import MerkleLog
import RetraceStorage

/// The C2SP tlog-tiles view of a stored ledger: what `retrace serve` answers at `/tile/…` and what
/// `retrace tiles` writes to a folder, computed from the same stored perfect subtrees and entries.
///
/// A tile is only ever produced for a tree size that a signed checkpoint covers, so every byte a
/// static host serves can be checked against a published checkpoint.
public enum LedgerTiles {
    /// Where a batch statement's members are published beside the tiles (`members/<N>`, `N` the
    /// entry's index spelled like a tile index). Not part of C2SP: tlog tools hash entries without
    /// them; a Retrace reader needs them to check each member against the statement's `batch.root`.
    public static func membersPath(index: UInt64) -> String { "members/\(Tile.encodeIndex(index))" }

    /// Parses `members/<N>` in its canonical spelling.
    public static func membersIndex(path: String) -> UInt64? {
        guard path.hasPrefix("members/") else { return nil }
        // Reuse the tile index grammar: `tile/entries/<N>` spells N the same way.
        guard let tile = try? Tile.parse(path: "tile/entries/" + path.dropFirst("members/".count)), tile.isFull
        else { return nil }
        return tile.index
    }

    /// Whether `tile` exists in a tree of `treeSize` leaves. A partial tile stays valid after the
    /// tree grows: its path names its width, and its content never changes.
    public static func exists(_ tile: Tile, treeSize: UInt64) -> Bool {
        let shift = UInt64(tile.treeLevel)
        guard shift < 64 else { return false }
        let count = treeSize >> shift
        let (first, overflow) = tile.index.multipliedReportingOverflow(by: Tile.width)
        guard !overflow else { return false }
        let (end, overflow2) = first.addingReportingOverflow(tile.width)
        return !overflow2 && end <= count
    }

    /// The bytes of `tile`, read from storage.
    /// - Throws: ``TileError`` when the tile lies beyond `treeSize` (not published yet), when the
    ///   storage lacks a node or entry it should hold, or when an entry is too large for a bundle.
    public static func bytes(of tile: Tile, treeSize: UInt64, reader: any LedgerReader) throws -> [UInt8] {
        guard exists(tile, treeSize: treeSize) else {
            throw TileError(.notPublished, "\(tile.path) lies beyond the published tree of \(treeSize) entries")
        }
        switch tile.kind {
        case .hashes:
            let nodes = tile.nodes
            let found = try reader.hashes(of: nodes)
            var hashes: [[UInt8]] = []
            hashes.reserveCapacity(nodes.count)
            for node in nodes {
                guard let hash = found[node], hash.count == MerkleHash.byteCount else {
                    throw TileError(.storage, "storage has no valid hash for \(node), needed by \(tile.path)")
                }
                hashes.append(hash)
            }
            return TileData.encodeHashes(hashes)
        case .entries:
            var entries: [[UInt8]] = []
            let first = tile.index * Tile.width
            try reader.forEachEntry(from: first, to: first + tile.width) { entries.append($0.bytes) }
            guard entries.count == Int(tile.width) else {
                throw TileError(.storage, "storage returned \(entries.count) entries for \(tile.path)")
            }
            do {
                return try TileData.encodeEntries(entries)
            } catch {
                throw TileError(.entryTooLarge, "\(tile.path): \(error.reason)")
            }
        }
    }

    /// The members file of the batch statement at `index`: a canonical JSON array of the member
    /// objects in order, or nil when that entry is not a batch statement.
    public static func members(at index: UInt64, treeSize: UInt64, reader: any LedgerReader) throws -> [UInt8]? {
        guard index < treeSize, let entry = try reader.entry(at: index), !entry.members.isEmpty else { return nil }
        return encodeMembers(entry.members)
    }

    static func encodeMembers(_ members: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "[")]
        for (position, member) in members.enumerated() {
            if position > 0 { out.append(UInt8(ascii: ",")) }
            out += member
        }
        out.append(UInt8(ascii: "]"))
        return out
    }
}
