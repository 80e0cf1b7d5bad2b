import Foundation
import LoopbackHTTP
import MerkleLog
import RetraceSimulation
import RetraceStorage
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

/// `audit --tiles DIR|URL --mirror STORE`: a verified copy made from tiles alone, continued from
/// the checkpoint it verified last, as `audit --server --mirror` does from the service's API.
@Suite("A mirror read from tiles", .serialized)
struct TilesMirrorTests {
    static func mirror(
        _ tiles: String,
        into store: String,
        origin: String = TestParties.origin
    ) throws -> (Int32, String) {
        let keys = GeneratedLedger.keys
        return try ServedTilesTests.run([
            "audit", "--tiles", tiles, "--mirror", store, "--governance-key",
            keys.appendingPathComponent("governance.pub").path, "--log-key",
            keys.appendingPathComponent("log.pub").path,
            "--origin", origin, "--json",
        ])
    }

    static func json(_ output: String) -> [String: Any] {
        let line = output.split(separator: "\n").last.map(String.init) ?? ""
        return (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
    }

    @Test("the copy continues with only the new entries, reads offline, and refuses tiles that do not extend it")
    func continues() throws {
        let generated = try GeneratedLedger(events: 600)
        defer { generated.remove() }
        let half = generated.statements.count / 2
        try generated.append(0..<half)
        let folder = generated.tiles("published")
        let store = generated.directory.appendingPathComponent("mirror.sqlite").path
        let (tiled, tiledOutput) = try ServedTilesTests.run(["tiles", "--db", generated.path, "--out", folder])
        #expect(tiled == 0, "\(tiledOutput)")
        let (first, firstOutput) = try Self.mirror(folder, into: store)
        #expect(first == 0, "\(firstOutput)")
        let firstSize = generated.treeSize
        #expect(Self.json(firstOutput)["fetched"] as? Int == Int(firstSize))

        try generated.append(half..<generated.statements.count)
        _ = try ServedTilesTests.run(["tiles", "--db", generated.path, "--out", folder])
        let (second, secondOutput) = try Self.mirror(folder, into: store)
        #expect(second == 0, "\(secondOutput)")
        #expect(Self.json(secondOutput)["fetched"] as? Int == Int(generated.treeSize - firstSize))
        #expect(Self.json(secondOutput)["entriesChecked"] as? Int == Int(generated.treeSize - firstSize))
        // The copy is a ledger: the same entries byte for byte, and it audits under the same keys.
        let copy = try SQLiteLedgerStore.open(path: store, readOnly: true)
        for index in [UInt64(0), firstSize, generated.treeSize - 1] {
            #expect(
                try copy.read { try $0.entry(at: index) }
                    == (try generated.ledger.store.read { try $0.entry(at: index) })
            )
        }
        #expect(try generated.auditor().audit(store: copy).passed)

        // Tiles of another ledger published at the same place: not an extension of what the copy
        // verified, refused with the copy unchanged.
        let other = try GeneratedLedger(events: 300, seed: 11)
        defer { other.remove() }
        try other.append(0..<other.statements.count)
        let otherFolder = other.tiles("other")
        _ = try ServedTilesTests.run(["tiles", "--db", other.path, "--out", otherFolder])
        let (refused, refusedOutput) = try Self.mirror(otherFolder, into: store)
        #expect(refused == 1, "\(refusedOutput)")
        #expect(refusedOutput.contains("rollback") || refusedOutput.contains("fork"), "\(refusedOutput)")
        #expect(try copy.read { try $0.treeSize() } == generated.treeSize)
    }
}
