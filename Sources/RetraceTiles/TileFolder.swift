import Foundation
import MerkleLog
import RetraceCrypto
import RetraceStorage

/// Writes a ledger as a folder of static files any web server or CDN can host: `checkpoint`,
/// `tile/<L>/<N>[.p/<W>]`, `tile/entries/<N>[.p/<W>]` and `members/<N>` for batch statements.
///
/// Writing is incremental and crash-safe: the folder's own `checkpoint` says how far it was
/// tiled; only tiles that changed since are written, each atomically (temporary file, rename),
/// and the new checkpoint goes last, so a reader never sees a checkpoint whose tiles are missing
/// and a killed run simply starts again from the old checkpoint.
public struct TileFolderWriter {
    public struct Summary: Sendable, Hashable {
        public let previousSize: UInt64
        public let treeSize: UInt64
        public let tilesWritten: Int
        public let membersWritten: Int
    }

    public let folder: String
    public let logKey: NoteVerifier
    public let origin: String

    public init(folder: String, logKey: NoteVerifier, origin: String) {
        self.folder = folder
        self.logKey = logKey
        self.origin = origin
    }

    /// Tiles the ledger up to its newest checkpoint.
    /// - Throws: ``TileError`` `.inconsistent` when the folder holds another log or a tree this
    ///   ledger never had, `.untrusted` when its checkpoint is not signed by this log's key,
    ///   `.unreadable` when a file cannot be written.
    public func write(store: any LedgerStore) throws -> Summary {
        try store.read { reader in
            guard let latest = try reader.latestCheckpoint() else {
                throw TileError(.notPublished, "the ledger has no signed checkpoint yet: nothing to tile")
            }
            let previous = try previousSize(reader: reader, latest: latest)
            var written = 0
            for tile in Tile.hashTiles(treeSize: latest.size, since: previous)
                + Tile.entryTiles(
                    treeSize: latest.size,
                    since: previous
                )
            {
                try put(LedgerTiles.bytes(of: tile, treeSize: latest.size, reader: reader), at: tile.path)
                written += 1
            }
            var members = 0
            if latest.size > previous {
                try reader.forEachEntry(from: previous, to: latest.size) { entry in
                    guard !entry.members.isEmpty else { return }
                    try put(LedgerTiles.encodeMembers(entry.members), at: LedgerTiles.membersPath(index: entry.index))
                    members += 1
                }
            }
            try put(Array(latest.note.utf8), at: "checkpoint")
            return Summary(
                previousSize: previous,
                treeSize: latest.size,
                tilesWritten: written,
                membersWritten: members
            )
        }
    }

    /// The size the folder was tiled to, after checking that its checkpoint is this log's and that
    /// this ledger's tree of that size has the same root (else extending would mix two logs).
    private func previousSize(reader: any LedgerReader, latest: StoredCheckpoint) throws -> UInt64 {
        let path = folder + "/checkpoint"
        guard FileManager.default.fileExists(atPath: path) else { return 0 }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TileError(.unreadable, "cannot read \(path)")
        }
        let old: Checkpoint
        do {
            old = try Checkpoint.open(String(decoding: data, as: UTF8.self), verifiers: [logKey], origin: origin)
        } catch {
            throw TileError(
                .untrusted,
                "\(path) is not a checkpoint of \(origin) signed by \(logKey.name) (\(error.reason)); "
                    + "tile into an empty folder"
            )
        }
        guard old.size <= latest.size else {
            throw TileError(
                .inconsistent,
                "\(path) is at size \(old.size), beyond this ledger's newest checkpoint \(latest.size)"
            )
        }
        let root = try MerkleTree.rootHash(size: old.size, reader: reader)
        guard root == old.rootHash else {
            throw TileError(
                .inconsistent,
                "\(path) has another root at size \(old.size) than this ledger: a different log"
            )
        }
        return old.size
    }

    private func put(_ bytes: [UInt8], at relative: String) throws {
        let url = URL(fileURLWithPath: folder).appendingPathComponent(relative)
        do {
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(),
                withIntermediateDirectories: true
            )
            try Data(bytes).write(to: url, options: .atomic)
        } catch {
            throw TileError(.unreadable, "cannot write \(url.path): \(error.localizedDescription)")
        }
    }
}
