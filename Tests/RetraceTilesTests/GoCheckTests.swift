import Foundation
import MerkleLog
import RetraceSimulation
import RetraceTiles
import Testing

/// The tiles checked by an implementation nobody here wrote: Go's golang.org/x/mod/sumdb/tlog and
/// sumdb/note (Debian's golang-golang-x-mod-dev, which `.ci/run` installs), run as a child process
/// on a folder that `TileFolderWriter` wrote. Under CI the Go toolchain must be there: the test fails
/// rather than skip.
@Suite("Tiles read by Go's x/mod/sumdb/tlog", .serialized)
struct GoCheckTests {
    static let program = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("GoCheck/main.go").path
    static let goPath = "/usr/share/gocode"

    static var goAvailable: Bool {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/go")
            && FileManager.default.fileExists(atPath: goPath + "/src/golang.org/x/mod/sumdb/tlog/tile.go")
    }

    /// Runs the Go checker; returns its exit status and output.
    static func check(_ folder: String, key: String, origin: String, scratch: URL) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/go")
        process.arguments = ["run", program, folder, key, origin]
        var environment = ProcessInfo.processInfo.environment
        environment["GOPATH"] = goPath
        environment["GO111MODULE"] = "off"
        environment["GOFLAGS"] = ""
        environment["GOCACHE"] = scratch.appendingPathComponent("gocache").path
        environment["CGO_ENABLED"] = "0"
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test("x/mod verifies the checkpoint, recomputes every hash tile from the entries, and checks proofs from tiles")
    func goReadsOurTiles() throws {
        guard Self.goAvailable else {
            if ProcessInfo.processInfo.environment["CI"] != nil {
                Issue.record("Go and golang-golang-x-mod-dev must be installed under CI (.ci/run installs them)")
            } else {
                print(
                    "SKIPPED goReadsOurTiles: no /usr/bin/go or x/mod sources (apt-get install golang-go golang-golang-x-mod-dev)"
                )
            }
            return
        }
        let generated = try GeneratedLedger(events: 1_400)
        defer { generated.remove() }
        let half = 700
        try generated.append(0..<half)
        let folder = generated.tiles("go")
        let writer = TileFolderWriter(folder: folder, logKey: generated.ledger.logKey, origin: generated.ledger.origin)
        _ = try writer.write(store: generated.ledger.store)
        // Extended once, so the folder also holds the earlier partial tiles.
        try generated.append(half..<generated.statements.count)
        _ = try writer.write(store: generated.ledger.store)
        let key = generated.ledger.logKey.description

        let (status, output) = try Self.check(
            folder,
            key: key,
            origin: TestParties.origin,
            scratch: generated.directory
        )
        #expect(status == 0, "\(output)")
        #expect(output.contains("size \(generated.treeSize)"), "\(output)")

        // The same checker fails on one flipped bit of a level-1 hash tile, so it can fail.
        let tile = try #require(Tile.hashTiles(treeSize: generated.treeSize).first { $0.kind == .hashes(level: 1) })
        let path = folder + "/" + tile.path
        var bytes = [UInt8](try #require(FileManager.default.contents(atPath: path)))
        bytes[0] ^= 0x80
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let (badStatus, badOutput) = try Self.check(
            folder,
            key: key,
            origin: TestParties.origin,
            scratch: generated.directory
        )
        #expect(badStatus != 0)
        #expect(badOutput.contains("differs from the tile recomputed"), "\(badOutput)")
    }
}
