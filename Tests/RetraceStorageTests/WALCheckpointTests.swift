import Foundation
import Testing

@testable import RetraceStorage

/// Checkpoints run beside the writer (``WALCheckpointer``): committed pages reach the main file
/// without the writer copying them, and the WAL stays bounded when the background does nothing.
@Suite("WAL checkpoints beside the writer")
struct WALCheckpointTests {
    let directory: ScratchDirectory

    init() throws { directory = try ScratchDirectory("retrace-wal") }

    func path(_ name: String) -> String { directory.path(name) }

    func size(_ file: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.intValue ?? 0
    }

    /// Commits `transactions` transactions of `perTransaction` entries of 3,000 incompressible
    /// bytes each (about one WAL frame per entry), numbered from `start`.
    func fill(_ store: SQLiteLedgerStore, from start: Int, transactions: Int, perTransaction: Int) throws {
        var generator = SystemRandomNumberGenerator()
        for transaction in 0..<transactions {
            try store.write { writer in
                for offset in 0..<perTransaction {
                    let index = UInt64(start + transaction * perTransaction + offset)
                    let bytes = (0..<3_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
                    try writer.insert(
                        entry: StoredEntry(
                            index: index,
                            eventID: Array(
                                withUnsafeBytes(of: index.bigEndian) { Array($0) } + [UInt8](repeating: 1, count: 24)
                            ),
                            type: "sell",
                            received: 0,
                            leafHash: [UInt8](repeating: 2, count: 32),
                            bytes: bytes,
                            members: []
                        )
                    )
                }
            }
        }
    }

    @Test("pages reach the main file through the background checkpointer, the writer copies none")
    func background() throws {
        let file = path("background.sqlite")
        _ = try SQLiteLedgerStore.create(path: file)
        let before = try size(file)
        let store = try SQLiteLedgerStore.open(
            path: file,
            checkpoints: .init(background: 20, inline: .max)
        )
        let checkpointer = try #require(store.checkpointer)
        try fill(store, from: 0, transactions: 12, perTransaction: 30)
        checkpointer.drain()
        #expect(checkpointer.completed.load(ordering: .relaxed) >= 1)
        #expect(checkpointer.failed.load(ordering: .relaxed) == 0)
        #expect(checkpointer.inlineCheckpoints.load(ordering: .relaxed) == 0)
        // 360 entries of 3,000 bytes: SQLite's own automatic checkpoint (1,000 frames) would not
        // have run yet, and the writer ran none, so only the checkpointer can have copied them.
        #expect(try size(file) >= before + 360 * 3_000)
        #expect(try store.read { try $0.entry(at: 359)?.bytes.count } == 3_000)
    }

    @Test("with no background checkpoint the writer checkpoints in line and the WAL stays bounded")
    func inlineBound() throws {
        let file = path("bounded.sqlite")
        _ = try SQLiteLedgerStore.create(path: file)
        let store = try SQLiteLedgerStore.open(
            path: file,
            checkpoints: .init(background: .max, inline: 100)
        )
        let checkpointer = try #require(store.checkpointer)
        var largestWAL = 0
        for round in 0..<20 {
            try fill(store, from: round * 30, transactions: 1, perTransaction: 30)
            largestWAL = max(largestWAL, try size(file + "-wal"))
        }
        #expect(checkpointer.completed.load(ordering: .relaxed) == 0)
        #expect(checkpointer.inlineCheckpoints.load(ordering: .relaxed) >= 1)
        // 600 frames were written; the WAL restarts after each in-line checkpoint, so it never
        // holds more than the threshold plus one transaction (frames of 4 KiB and a 24-byte header).
        let perTransaction = 60
        #expect(largestWAL <= (100 + perTransaction) * (4_096 + 24) + 32)
        #expect(try store.read { try $0.entry(at: 599)?.bytes.count } == 3_000)
    }

    @Test("the writer keeps a 64 MiB page cache and each reader 16 MiB, on a new and on a reopened ledger")
    func pageCaches() throws {
        let file = path("caches.sqlite")
        let created = try SQLiteLedgerStore.create(path: file)
        #expect(try created.cacheKiB() == (65_536, 16_384))
        #expect(try SQLiteLedgerStore.open(path: file).cacheKiB() == (65_536, 16_384))
    }

    @Test("a store closed with a checkpoint pending leaves every committed entry readable")
    func closeWhilePending() throws {
        let file = path("closing.sqlite")
        _ = try SQLiteLedgerStore.create(path: file)
        do {
            let store = try SQLiteLedgerStore.open(path: file, checkpoints: .init(background: 1, inline: .max))
            try fill(store, from: 0, transactions: 8, perTransaction: 10)
        }
        let reopened = try SQLiteLedgerStore.open(path: file, readOnly: true)
        #expect(try reopened.read { try $0.entry(at: 79)?.bytes.count } == 3_000)
        #expect(try reopened.integrityCheck().isEmpty)
    }
}
