import Foundation
import LoopbackHTTP
import MerkleLog
import RetraceTestSupport
import RetraceTiles
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `retrace serve` answering tile paths, and `retrace audit --tiles URL` reading them, as separate
/// processes over loopback.
@Suite("Tiles served by retrace serve", .serialized)
struct ServedTilesTests {
    static func binary() throws -> URL { try BuiltExecutable.locate("retrace", override: "RETRACE_BIN") }

    /// Starts `retrace serve` on a free port and returns the process and its port.
    static func serve(_ db: String) throws -> (Process, Int) {
        let process = Process()
        process.executableURL = try binary()
        process.arguments = ["serve", "--db", db, "--port", "0", "--log-level", "error", "--read-only"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var bytes: [UInt8] = []
        while let byte = try output.fileHandleForReading.read(upToCount: 1)?.first, byte != 0x0a { bytes.append(byte) }
        let line = String(decoding: bytes, as: UTF8.self)
        guard let port = Int(line.split(separator: ":").last?.dropLast() ?? "") else {
            process.terminate()
            throw TileError(.unreadable, "retrace serve did not announce a port: \"\(line)\"")
        }
        return (process, port)
    }

    static func run(_ arguments: [String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = try binary()
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test("Every tile the folder writer writes is served byte for byte, immutable; nothing beyond the checkpoint")
    func servedEqualsFolder() throws {
        let generated = try GeneratedLedger(events: 600)
        defer { generated.remove() }
        try generated.append(0..<generated.statements.count)
        let folder = generated.tiles("served")
        _ = try TileFolderWriter(folder: folder, logKey: generated.ledger.logKey, origin: generated.ledger.origin)
            .write(store: generated.ledger.store)
        let (server, port) = try Self.serve(generated.path)
        defer {
            kill(server.processIdentifier, SIGTERM)
            server.waitUntilExit()
        }
        let files = try GeneratedLedger.files(in: folder)
        let size = generated.treeSize
        #expect(
            files.count == Tile.hashTiles(treeSize: size).count + Tile.entryTiles(treeSize: size).count
                + files.keys.filter { $0.hasPrefix("members/") }.count + 1
        )
        #expect(files.keys.contains { $0.hasPrefix("members/") })
        for (path, data) in files {
            let response = try loopbackRequest(port: port, "GET", "/" + path)
            #expect(response.status == 200, "\(path)")
            #expect(response.body == [UInt8](data), "\(path)")
            if path != "checkpoint" {
                #expect(response.header("Cache-Control") == "public, max-age=31536000, immutable", "\(path)")
            }
        }
        let beyond = Tile(kind: .entries, index: size / 256, width: min(256, size % 256 + 1))
        #expect(try loopbackRequest(port: port, "GET", "/" + beyond.path).status == 404)
        #expect(try loopbackRequest(port: port, "GET", "/tile/0/0").status == 404)
        #expect(try loopbackRequest(port: port, "GET", "/members/000").status == 404)

        // The whole ledger audited from the served tiles alone, by the CLI, under the test keys.
        let keys = GeneratedLedger.keys
        let (status, output) = try Self.run([
            "audit", "--tiles", "http://127.0.0.1:\(port)/", "--governance-key",
            keys.appendingPathComponent("governance.pub").path,
            "--log-key", keys.appendingPathComponent("log.pub").path, "--origin", "retrace.test/demo",
        ])
        #expect(status == 0, "\(output)")
        #expect(output.contains("PASSED"), "\(output)")
        #expect(output.contains("entries checked  \(size)"), "\(output)")

        // `retrace tiles` writes the same folder as the library.
        let cliFolder = generated.tiles("cli")
        let (tiled, tiledOutput) = try Self.run(["tiles", "--db", generated.path, "--out", cliFolder])
        #expect(tiled == 0, "\(tiledOutput)")
        #expect(try GeneratedLedger.files(in: cliFolder) == files)
        let (audited, auditOutput) = try Self.run([
            "audit", "--tiles", cliFolder, "--governance-key", keys.appendingPathComponent("governance.pub").path,
            "--log-key", keys.appendingPathComponent("log.pub").path, "--origin", "another.example/log",
        ])
        #expect(audited == 1, "an origin the log key is not trusted for fails: \(auditOutput)")
    }
}
