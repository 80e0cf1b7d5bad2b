import Foundation
import LoopbackHTTP
import MerkleLog
import RetraceAudit
import RetraceCrypto
import RetraceEvents
import RetraceLedger
import RetraceSimulation
import RetraceStorage
import RetraceTestSupport
import RetraceTiles
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A generated ledger (several hundred entries, with batch statements) in a scratch folder.
struct GeneratedLedger {
    static let parties: TestParties = {
        do { return try TestParties() } catch { preconditionFailure("embedded test keys do not load: \(error)") }
    }()
    /// The repository's test keys, which the embedded test parties are.
    static let keys = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("keys")

    let directory: URL
    let path: String
    let ledger: Ledger
    let statements: [SignedStatement]

    init(events: Int, seed: UInt64 = 3) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("retrace-tiles-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        path = directory.appendingPathComponent("ledger.sqlite").path
        ledger = try Ledger.create(
            store: try SQLiteLedgerStore.create(path: path),
            origin: TestParties.origin,
            logSigner: Self.parties.log,
            governance: [Self.parties.governance.verifier],
            roster: Self.parties.signedRoster(time: Timestamp(secondsSinceEpoch: 1_704_067_200)),
            clock: { Timestamp(secondsSinceEpoch: 1_900_000_000) }
        )
        var configuration = LedgerGenerator.Configuration.forEvents(events, seed: seed)
        configuration.batchSize = 97
        // Small cohorts, so recycling pallets (batch statements) come every few dozen products.
        configuration.cohortSize = 24
        configuration.returnRate = 0.9
        statements = try LedgerGenerator(configuration: configuration, parties: Self.parties).collect()
    }

    /// Appends `statements[range]` in batches of 97, one checkpoint each.
    func append(_ range: Range<Int>) throws {
        var start = range.lowerBound
        while start < range.upperBound {
            let end = min(start + 97, range.upperBound)
            _ = try ledger.append(Array(statements[start..<end]))
            start = end
        }
    }

    var treeSize: UInt64 { (try? ledger.store.read { try $0.treeSize() }) ?? 0 }

    func tiles(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func auditor() -> Auditor {
        Auditor(
            trustRoots: [Self.parties.governance.verifier],
            logKey: Self.parties.log.verifier,
            origin: TestParties.origin
        )
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }

    /// Every file below `folder`, by relative path.
    static func files(in folder: String) throws -> [String: Data] {
        var result: [String: Data] = [:]
        let base = URL(fileURLWithPath: folder).standardizedFileURL.path
        guard let walker = FileManager.default.enumerator(atPath: base) else { return [:] }
        for case let relative as String in walker {
            var isDirectory: ObjCBool = false
            let full = base + "/" + relative
            if FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue {
                result[relative] = FileManager.default.contents(atPath: full)
            }
        }
        return result
    }
}

@Suite("Tiles of a ledger: written, extended, audited, served", .serialized)
struct TiledLedgerTests {
    @Test("A tiled folder audits as the ledger does, holds every entry byte for byte and every batch's members")
    func writeAndAudit() throws {
        let generated = try GeneratedLedger(events: 700)
        defer { generated.remove() }
        try generated.append(0..<generated.statements.count)
        let folder = generated.tiles("tiles")
        let summary = try TileFolderWriter(
            folder: folder,
            logKey: generated.ledger.logKey,
            origin: generated.ledger.origin
        ).write(store: generated.ledger.store)
        let size = generated.treeSize
        #expect(summary.previousSize == 0)
        #expect(summary.treeSize == size)
        #expect(summary.tilesWritten == Tile.hashTiles(treeSize: size).count + Tile.entryTiles(treeSize: size).count)

        let tiled = TiledLog.folder(folder)
        var stored: [[UInt8]] = []
        var batches: [UInt64: [[UInt8]]] = [:]
        try generated.ledger.store.read { reader in
            try reader.forEachEntry(from: 0, to: size) { entry in
                stored.append(entry.bytes)
                if !entry.members.isEmpty { batches[entry.index] = entry.members }
            }
        }
        var read: [[UInt8]] = []
        try tiled.forEachEntry(treeSize: size, from: 0, to: size) { _, bytes in read.append(bytes) }
        #expect(read == stored)
        #expect(!batches.isEmpty, "the generated ledger has batch statements")
        #expect(summary.membersWritten == batches.count)
        for (index, members) in batches { #expect(try tiled.members(at: index) == members) }

        let (_, checkpoint) = try tiled.checkpoint(logKey: generated.ledger.logKey, origin: generated.ledger.origin)
        #expect(checkpoint.size == size)
        #expect(try MerkleTree.rootHash(size: size, reader: tiled.nodeReader(treeSize: size)) == checkpoint.rootHash)

        let report = try generated.auditor().audit(tiles: tiled)
        #expect(report.passed, "\(report.failures)")
        #expect(report.entriesChecked == size)
        #expect(report.checkpointsChecked == 1)
        #expect(report.rootHash == checkpoint.rootHash)
    }

    @Test("Extending a folder writes only what changed and ends byte for byte where tiling at once ends")
    func incremental() throws {
        let generated = try GeneratedLedger(events: 900)
        defer { generated.remove() }
        let half = generated.statements.count / 2
        try generated.append(0..<half)
        let folder = generated.tiles("incremental")
        let writer = TileFolderWriter(folder: folder, logKey: generated.ledger.logKey, origin: generated.ledger.origin)
        let first = try writer.write(store: generated.ledger.store)
        try generated.append(half..<generated.statements.count)
        let second = try writer.write(store: generated.ledger.store)
        #expect(second.previousSize == first.treeSize)
        #expect(second.treeSize == generated.treeSize)
        #expect(
            second.tilesWritten
                == Tile.hashTiles(treeSize: second.treeSize, since: first.treeSize).count
                + Tile.entryTiles(treeSize: second.treeSize, since: first.treeSize).count
        )
        let again = try writer.write(store: generated.ledger.store)
        #expect(again.tilesWritten == 0 && again.previousSize == again.treeSize)

        let whole = generated.tiles("whole")
        _ = try TileFolderWriter(folder: whole, logKey: generated.ledger.logKey, origin: generated.ledger.origin)
            .write(store: generated.ledger.store)
        let extended = try GeneratedLedger.files(in: folder)
        let atOnce = try GeneratedLedger.files(in: whole)
        // The extended folder also keeps the earlier partial tiles (immutable, still valid).
        #expect(Set(atOnce.keys).isSubset(of: Set(extended.keys)))
        for (path, data) in atOnce { #expect(extended[path] == data, "\(path)") }
        #expect(try generated.auditor().audit(tiles: .folder(folder)).passed)
    }

    @Test("An altered entry, a missing members file or a foreign checkpoint fails the audit or is refused")
    func tampering() throws {
        let generated = try GeneratedLedger(events: 700)
        defer { generated.remove() }
        try generated.append(0..<generated.statements.count)
        let folder = generated.tiles("tampered")
        let writer = TileFolderWriter(folder: folder, logKey: generated.ledger.logKey, origin: generated.ledger.origin)
        _ = try writer.write(store: generated.ledger.store)
        let size = generated.treeSize

        // One byte of entry 300's signature (in the second bundle) flipped.
        let bundle = Tile.entryTiles(treeSize: size)[1]
        let bundlePath = folder + "/" + bundle.path
        let original = try #require(FileManager.default.contents(atPath: bundlePath))
        var bytes = [UInt8](original)
        let entries = try TileData.decodeEntries(bytes, tile: bundle)
        let marker = Array("\"signature\":\"".utf8)
        let entry = entries[44]
        let inEntry = try #require(
            (0...(entry.count - marker.count)).first { Array(entry[$0..<$0 + marker.count]) == marker }
        )
        let offset = entries[0..<44].reduce(0) { $0 + 2 + $1.count } + 2 + inEntry + marker.count + 4
        bytes[offset] = bytes[offset] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        try Data(bytes).write(to: URL(fileURLWithPath: bundlePath))
        let altered = try generated.auditor().audit(tiles: .folder(folder))
        #expect(!altered.passed)
        #expect(altered.failures.first?.index == 256 + 44, "\(altered.failures)")
        try original.write(to: URL(fileURLWithPath: bundlePath))
        #expect(try generated.auditor().audit(tiles: .folder(folder)).passed)

        // A batch statement whose members the host withholds.
        let batchIndex = try #require(
            try generated.ledger.store.read { reader in
                var found: UInt64?
                try reader.forEachEntry(from: 0, to: size) { if found == nil, !$0.members.isEmpty { found = $0.index } }
                return found
            }
        )
        let membersPath = folder + "/" + LedgerTiles.membersPath(index: batchIndex)
        try FileManager.default.removeItem(atPath: membersPath)
        let withheld = try generated.auditor().audit(tiles: .folder(folder))
        #expect(!withheld.passed)
        #expect(withheld.failures.first?.index == batchIndex)
        #expect(withheld.failures.first?.rule == AuditRule.batchMembers, "\(withheld.failures)")

        // A checkpoint signed by another key: the audit fails on it, and extending the folder is refused.
        let other = try NoteSigner.generate(name: "other.example")
        let checkpoint = try Checkpoint(parsing: SignedNote(parsing: try TiledLog.folder(folder).checkpointNote()).text)
        try Data(try checkpoint.sign(with: other).serialized.utf8).write(
            to: URL(fileURLWithPath: folder + "/checkpoint")
        )
        #expect(throws: TileError(.untrusted, "")) { try writer.write(store: generated.ledger.store) }
    }

    @Test("A folder tiled from another ledger is not extended with this one")
    func foreignFolder() throws {
        let one = try GeneratedLedger(events: 300, seed: 5)
        let two = try GeneratedLedger(events: 400, seed: 6)
        defer {
            one.remove()
            two.remove()
        }
        try one.append(0..<one.statements.count)
        try two.append(0..<two.statements.count)
        let folder = one.tiles("shared")
        _ = try TileFolderWriter(folder: folder, logKey: one.ledger.logKey, origin: one.ledger.origin)
            .write(store: one.ledger.store)
        #expect(throws: TileError(.inconsistent, "")) {
            try TileFolderWriter(folder: folder, logKey: two.ledger.logKey, origin: two.ledger.origin)
                .write(store: two.ledger.store)
        }
    }
}
