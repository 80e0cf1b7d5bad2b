import Foundation
import GRDB
import MerkleLog
import RetraceStorage
import Testing

/// What only the SQLite engine has to say: files that are not ledgers, schema versions, the
/// synchronous level. Everything both engines must do alike (append-only tables, rollback,
/// refusals, proofs from stored nodes) is in `LedgerStoreConformanceTests`, run on both.
@Suite("SQLite ledger store")
struct SQLiteLedgerStoreTests {
    let directory: ScratchDirectory

    init() throws { directory = try ScratchDirectory("retrace-store") }

    func path(_ name: String) -> String { directory.path(name) }

    @Test("opening a missing path is refused as notFound and creates nothing")
    func missing() {
        #expect(throws: StorageError(.notFound, "")) { try SQLiteLedgerStore.open(path: path("none.sqlite")) }
        #expect(!FileManager.default.fileExists(atPath: path("none.sqlite")))
    }

    @Test("a file of random bytes is refused as notALedger and left byte-for-byte unchanged")
    func randomBytes() throws {
        let file = path("random.bin")
        let bytes = Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        try bytes.write(to: URL(fileURLWithPath: file))
        #expect(throws: StorageError(.notALedger, "")) { try SQLiteLedgerStore.open(path: file) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: file)) == bytes)
    }

    @Test("an unrelated SQLite database is refused as notALedger and left unchanged")
    func otherDatabase() throws {
        let file = path("other.sqlite")
        let queue = try DatabaseQueue(path: file)
        try queue.write { try $0.execute(sql: "CREATE TABLE t (x); INSERT INTO t VALUES (1)") }
        try queue.close()
        let before = try Data(contentsOf: URL(fileURLWithPath: file))
        #expect(throws: StorageError(.notALedger, "")) { try SQLiteLedgerStore.open(path: file) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: file)) == before)
    }

    @Test("a ledger of a newer schema version is refused as newerSchema")
    func newerSchema() throws {
        let file = path("newer.sqlite")
        _ = try SQLiteLedgerStore.create(path: file)
        let queue = try DatabaseQueue(path: file)
        try queue.writeWithoutTransaction { try $0.execute(sql: "PRAGMA user_version = 99") }
        try queue.close()
        #expect(throws: StorageError(.newerSchema, "")) { try SQLiteLedgerStore.open(path: file) }
    }

    @Test("the writer commits with synchronous = FULL, on a new and on a reopened ledger")
    func durability() throws {
        let file = path("durable.sqlite")
        #expect(try SQLiteLedgerStore.create(path: file).synchronousLevel() == 2)
        #expect(try SQLiteLedgerStore.open(path: file).synchronousLevel() == 2)
    }

    @Test("create refuses an existing file")
    func createExisting() throws {
        let file = path("exists.sqlite")
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        #expect(throws: StorageError(.alreadyExists, "")) { try SQLiteLedgerStore.create(path: file) }
    }

    @Test("a column of the wrong type reads as corrupt, naming the column; SQLite's text-blob conversions stay")
    func wrongTypedColumns() throws {
        let file = path("typed.sqlite")
        let store = try SQLiteLedgerStore.create(path: file)
        try store.write { writer in
            try writer.insert(nodes: [(NodeID(level: 0, index: 0), [UInt8](repeating: 7, count: 32))])
            try writer.insert(checkpoint: StoredCheckpoint(size: 1, root: [UInt8](repeating: 9, count: 32), note: "n"))
            try writer.insert(
                entry: StoredEntry(
                    index: 0,
                    eventID: [UInt8](repeating: 1, count: 32),
                    type: "commission",
                    received: 5,
                    leafHash: [UInt8](repeating: 2, count: 32),
                    bytes: Array(#"{"a":1}"#.utf8),
                    members: []
                )
            )
        }
        func tamper(_ sql: String) throws {
            try DatabaseQueue(path: file).writeWithoutTransaction { try $0.execute(sql: sql) }
        }
        func expectCorrupt(_ expected: String, _ read: () throws -> Void) {
            do {
                try read()
                Issue.record("read without error; expected corrupt: \(expected)")
            } catch let error as StorageError {
                #expect(error.code == .corrupt)
                #expect(error.reason.contains(expected), "\(error.reason)")
            } catch { Issue.record("\(error)") }
        }
        // Text stored in a blob column reads as its UTF-8 bytes, as SQLite (and GRDB before) converts it.
        try tamper("DROP TRIGGER checkpoints_no_update; UPDATE checkpoints SET root = 'abc'")
        #expect(try store.read { try $0.latestCheckpoint()?.root } == Array("abc".utf8))

        try tamper("DROP TRIGGER nodes_no_update; UPDATE nodes SET hash = 42")
        expectCorrupt("column 0 holds the integer 42, expected a blob") {
            _ = try store.read { try $0.hashes(of: [NodeID(level: 0, index: 0)]) }
        }
        try tamper("UPDATE checkpoints SET note = x'ff'")
        expectCorrupt("column 2 holds a blob that is not UTF-8, expected text") {
            _ = try store.read { try $0.latestCheckpoint() }
        }
        #expect(try store.read { try $0.entry(at: 0)?.received } == 5)
        try tamper("DROP TRIGGER entries_no_update; UPDATE entries SET received = 1.5")
        expectCorrupt("column 3 holds the real number 1.5, expected an integer") {
            _ = try store.read { try $0.entry(at: 0) }
        }
    }
}
