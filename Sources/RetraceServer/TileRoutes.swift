import Hummingbird
import MerkleLog
import RetraceStorage
import RetraceTiles

/// The log as C2SP tlog-tiles: `/tile/<L>/<N>[.p/<W>]`, `/tile/entries/<N>[.p/<W>]` and the batch
/// members beside them (`/members/<N>`), for mirrors, auditors and monitors that read the log like
/// any other transparency log, and for caches in front of the service.
///
/// Every path names bytes that never change (a partial tile's width is in its path), so each answer
/// is marked immutable and a CDN can keep it forever; only tiles under the newest signed checkpoint
/// are served, so each can be checked against a published checkpoint.
struct TileRoutes: Sendable {
    let service: LedgerService

    static let immutable = "public, max-age=31536000, immutable"

    func register(on router: Router<BasicRequestContext>) {
        router.get("/tile/**") { request, _ in
            let path = String(request.uri.path.dropFirst())
            let tile: Tile
            do {
                tile = try Tile.parse(path: path)
            } catch let error as MerkleError {
                throw Problem.notFound(error.reason)
            }
            return try serve { reader, size in try LedgerTiles.bytes(of: tile, treeSize: size, reader: reader) }
        }
        router.get("/members/**") { request, _ in
            let path = String(request.uri.path.dropFirst())
            guard let index = LedgerTiles.membersIndex(path: path) else {
                throw Problem.notFound("\"\(path)\" is not members/<N> with N spelled as a tile index")
            }
            return try serve { reader, size in
                guard let bytes = try LedgerTiles.members(at: index, treeSize: size, reader: reader) else {
                    throw Problem.notFound("entry \(index) is not a batch statement of the published tree")
                }
                return bytes
            }
        }
    }

    private func serve(_ body: (any LedgerReader, UInt64) throws -> [UInt8]) throws -> Response {
        let bytes: [UInt8]
        do {
            bytes = try service.ledger.store.read { reader in
                guard let size = try reader.latestCheckpoint()?.size else {
                    throw Problem.notFound("the log has no checkpoint yet")
                }
                return try body(reader, size)
            }
        } catch let error as TileError where error.code == .notPublished {
            throw Problem.notFound(error.reason)
        } catch {
            throw LedgerService.storageProblem(error)
        }
        return Responses.bytes(
            bytes,
            contentType: "application/octet-stream",
            headers: [.cacheControl: Self.immutable]
        )
    }
}
