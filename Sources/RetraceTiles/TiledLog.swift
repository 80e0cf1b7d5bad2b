import CanonicalJSON
import Foundation
import MerkleLog
import RetraceCrypto
import Synchronization

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A log read from tiles alone — a folder or a static web host — for audits and mirrors that
/// must not depend on the log's dynamic API.
///
/// Nothing read here is trusted: the checkpoint is opened only under the caller's log key and
/// origin; entries are hashed by whoever consumes them and checked against that checkpoint's root;
/// proofs built from hash tiles are checked by the caller against the same root.
public struct TiledLog: Sendable {
    /// Where the files come from, for messages.
    public let location: String
    private let fetch: @Sendable (String) throws -> [UInt8]?

    /// - Parameter fetch: the bytes at a relative path, or nil if there is no such file.
    public init(location: String, fetch: @escaping @Sendable (String) throws -> [UInt8]?) {
        self.location = location
        self.fetch = fetch
    }

    /// Tiles in a folder of this machine.
    public static func folder(_ path: String) -> TiledLog {
        TiledLog(location: path) { relative in
            let full = path + "/" + relative
            guard FileManager.default.fileExists(atPath: full) else { return nil }
            guard let data = FileManager.default.contents(atPath: full) else {
                throw TileError(.unreadable, "cannot read \(full)")
            }
            return Array(data)
        }
    }

    /// Tiles on a web host (`http://` or `https://`, certificates checked by the system's trust).
    public static func url(_ base: String) -> TiledLog {
        let prefix = base.hasSuffix("/") ? base : base + "/"
        return TiledLog(location: prefix) { relative in try HTTPFetch.get(prefix + relative) }
    }

    /// Chooses ``url(_:)`` for an `http(s)://` location and ``folder(_:)`` otherwise.
    public static func at(_ location: String) -> TiledLog {
        location.hasPrefix("http://") || location.hasPrefix("https://") ? url(location) : folder(location)
    }

    /// The published checkpoint note, as text (not yet verified).
    public func checkpointNote() throws -> String {
        guard let bytes = try fetch("checkpoint") else {
            throw TileError(.notFound, "\(location) has no checkpoint")
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The checkpoint, opened under the trusted log key for the expected origin.
    public func checkpoint(logKey: NoteVerifier, origin: String?) throws -> (note: String, checkpoint: Checkpoint) {
        let note = try checkpointNote()
        do {
            return (note, try Checkpoint.open(note, verifiers: [logKey], origin: origin))
        } catch {
            throw TileError(.untrusted, "the checkpoint at \(location) does not verify: \(error.reason)")
        }
    }

    /// The bytes of one tile; a missing file is an error, since the checkpoint says it exists.
    public func tile(_ tile: Tile) throws -> [UInt8] {
        guard let bytes = try fetch(tile.path) else {
            throw TileError(.notFound, "\(location) has no \(tile.path)")
        }
        return bytes
    }

    /// Entries `[from, to)` of a tree of `treeSize`, in order, reading each entry bundle once.
    public func forEachEntry(
        treeSize: UInt64,
        from: UInt64,
        to: UInt64,
        _ body: (UInt64, [UInt8]) throws -> Void
    ) throws {
        guard from < to else { return }
        guard to <= treeSize else {
            throw TileError(.notPublished, "entries up to \(to) asked of a tree of \(treeSize)")
        }
        var bundle = from / Tile.width
        while bundle * Tile.width < to {
            let width = min(Tile.width, treeSize - bundle * Tile.width)
            let tile = Tile(kind: .entries, index: bundle, width: width)
            let entries: [[UInt8]]
            do {
                entries = try TileData.decodeEntries(try self.tile(tile), tile: tile)
            } catch let error as MerkleError {
                throw TileError(.malformed, error.reason)
            }
            for (offset, entry) in entries.enumerated() {
                let index = bundle * Tile.width + UInt64(offset)
                if index >= from && index < to { try body(index, entry) }
            }
            bundle += 1
        }
    }

    /// The members of the batch statement at `index` (each member's canonical bytes), or nil when
    /// the host publishes none.
    public func members(at index: UInt64) throws -> [[UInt8]]? {
        guard let bytes = try fetch(LedgerTiles.membersPath(index: index)) else { return nil }
        guard case .array(let items) = try? CanonicalJSON.decode(bytes, options: .strict) else {
            throw TileError(.malformed, "\(LedgerTiles.membersPath(index: index)) is not a canonical JSON array")
        }
        return try items.map { item in
            do { return try CanonicalJSON.encode(item) } catch {
                throw TileError(.malformed, "a member in \(LedgerTiles.membersPath(index: index)): \(error)")
            }
        }
    }

    /// Perfect-subtree hashes from the hash tiles of a tree of `treeSize`, for proofs.
    public func nodeReader(treeSize: UInt64) -> TileNodeReader {
        TileNodeReader(treeSize: treeSize) { tile in try self.tile(tile) }
    }
}

/// A blocking HTTP GET for tools that run synchronously (audit, mirror): 200 gives the body,
/// 404 gives nil, anything else is an error naming the status.
enum HTTPFetch {
    private final class Outcome: Sendable {
        let value = Mutex<Result<[UInt8]?, TileError>?>(nil)
    }

    static func get(_ address: String) throws -> [UInt8]? {
        guard let url = URL(string: address) else { throw TileError(.unreadable, "\"\(address)\" is not a URL") }
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        let task = URLSession.shared.dataTask(with: url) { data, response, error in
            let result: Result<[UInt8]?, TileError>
            if let error {
                result = .failure(TileError(.unreadable, "GET \(address) failed: \(error.localizedDescription)"))
            } else if let http = response as? HTTPURLResponse {
                switch http.statusCode {
                case 200: result = .success(Array(data ?? Data()))
                case 404: result = .success(nil)
                default: result = .failure(TileError(.unreadable, "GET \(address) answered \(http.statusCode)"))
                }
            } else {
                result = .failure(TileError(.unreadable, "GET \(address) gave no HTTP response"))
            }
            outcome.value.withLock { $0 = result }
            done.signal()
        }
        task.resume()
        done.wait()
        guard let result = outcome.value.withLock({ $0 }) else {
            throw TileError(.unreadable, "GET \(address) ended without an outcome")
        }
        return try result.get()
    }
}
