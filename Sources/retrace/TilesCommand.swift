import ArgumentParser
import CanonicalJSON
import RetraceTiles

/// `retrace tiles`: the ledger as static C2SP tlog-tiles files, for any web server or CDN.
struct TilesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tiles",
        abstract: "Write the ledger as C2SP tlog-tiles (checkpoint, hash tiles, entry bundles, batch members).",
        discussion: """
            Run it again to extend the folder: only tiles that changed since its checkpoint are written, and the \
            new checkpoint goes last, so a reader never sees a checkpoint whose tiles are missing. A folder that \
            holds another log is refused. Audit the result with `retrace audit --tiles DIR`.
            """
    )

    @OptionGroup var database: DatabaseOptions
    @Option(help: "The folder to write (created if missing).")
    var out: String
    @OptionGroup var output: JSONFlag

    func run() throws {
        let ledger = try LedgerAccess.openReadOnly(database.db)
        let writer = TileFolderWriter(folder: out, logKey: ledger.logKey, origin: ledger.origin)
        let summary: TileFolderWriter.Summary
        do {
            summary = try writer.write(store: ledger.store)
        } catch let error as TileError {
            let status =
                error.code == .inconsistent || error.code == .untrusted ? CLIError.refused : CLIError.cannotCheck
            throw CLIError(status, "cannot tile \(database.db) into \(out): \(error.reason)")
        }
        if output.json {
            try Output.json(
                .object([
                    "folder": .string(out), "previousSize": .integer(Int64(summary.previousSize)),
                    "treeSize": .integer(Int64(summary.treeSize)),
                    "tilesWritten": .integer(Int64(summary.tilesWritten)),
                    "membersWritten": .integer(Int64(summary.membersWritten)),
                ])
            )
        } else {
            Output.print(
                "tiled \(database.db) into \(out): size \(summary.previousSize) → \(summary.treeSize), "
                    + "\(summary.tilesWritten) tiles and \(summary.membersWritten) members files written"
            )
        }
    }
}
