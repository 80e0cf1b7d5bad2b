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
}
