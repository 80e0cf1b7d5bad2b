import Foundation
import GRDB
import MerkleLog
import RetraceStorage
import Testing

@Suite("SQLite ledger store")
struct SQLiteLedgerStoreTests {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("retrace-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func entry(_ index: UInt64) -> StoredEntry {
        StoredEntry(
            index: index,
            eventID: [UInt8](repeating: UInt8(index), count: 32),
            type: "commission",
            received: 1,
            leafHash: [UInt8](repeating: 1, count: 32),
            bytes: Array("{}".utf8),
            members: []
        )
    }

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

    @Test("ledger tables refuse UPDATE and DELETE at the schema level")
    func appendOnly() throws {
        let file = path("ledger.sqlite")
        let store = try SQLiteLedgerStore.create(path: file)
        try store.write { writer in
            try writer.insert(entry: entry(0))
            try writer.insert(nodes: [(NodeID(level: 0, index: 0), [UInt8](repeating: 1, count: 32))])
            try writer.setMetadata("format", "retrace/v1")
            try writer.insert(checkpoint: StoredCheckpoint(size: 1, root: [UInt8](repeating: 1, count: 32), note: "n"))
            try writer.insert(link: ChainLink(chain: "p", sequence: 0, index: 0, eventID: entry(0).eventID, state: []))
        }
        let queue = try DatabaseQueue(path: file)
        defer { try? queue.close() }
        for sql in [
            "UPDATE entries SET bytes = x'00'", "DELETE FROM entries", "UPDATE nodes SET hash = x'00'",
            "DELETE FROM nodes",
            "DELETE FROM meta", "UPDATE checkpoints SET note = ''", "DELETE FROM chain_links",
        ] {
            #expect(throws: DatabaseError.self, "\(sql)") { try queue.write { try $0.execute(sql: sql) } }
        }
        #expect(try store.read { try $0.treeSize() } == 1)
    }

    @Test("a failed write transaction leaves nothing behind")
    func rollback() throws {
        let store = try SQLiteLedgerStore.create(path: path("rollback.sqlite"))
        struct Refused: Error {}
        #expect(throws: Refused.self) {
            try store.write { writer in
                try writer.insert(entry: entry(0))
                throw Refused()
            }
        }
        #expect(try store.read { try $0.treeSize() } == 0)
    }

    @Test("a second checkpoint for the same size with another root is refused")
    func inconsistentCheckpoint() throws {
        let store = try SQLiteLedgerStore.create(path: path("cp.sqlite"))
        let root = [UInt8](repeating: 1, count: 32)
        try store.write { try $0.insert(checkpoint: StoredCheckpoint(size: 1, root: root, note: "a")) }
        try store.write { try $0.insert(checkpoint: StoredCheckpoint(size: 1, root: root, note: "a")) }
        #expect(throws: StorageError(.corrupt, "")) {
            try store.write {
                try $0.insert(checkpoint: StoredCheckpoint(size: 1, root: [UInt8](repeating: 2, count: 32), note: "b"))
            }
        }
    }

    @Test("a duplicate statement id is refused by the schema as a conflict")
    func duplicateID() throws {
        let store = try SQLiteLedgerStore.create(path: path("dup.sqlite"))
        try store.write { try $0.insert(entry: entry(0)) }
        let clash = StoredEntry(
            index: 1,
            eventID: entry(0).eventID,
            type: "commission",
            received: 1,
            leafHash: entry(0).leafHash,
            bytes: entry(0).bytes,
            members: []
        )
        #expect(throws: StorageError(.conflict, "")) { try store.write { try $0.insert(entry: clash) } }
    }

    @Test("Merkle nodes written through the store serve proofs that verify")
    func nodesServeProofs() throws {
        let store = try SQLiteLedgerStore.create(path: path("tree.sqlite"))
        let leaves = (0..<37).map { MerkleHash.leafHash([UInt8($0)]) }
        try store.write { writer in
            try writer.insert(
                nodes: MerkleTree.nodesToAppend(leafHashes: Array(leaves[..<20]), startingAt: 0, reader: writer)
            )
        }
        try store.write { writer in
            try writer.insert(
                nodes: MerkleTree.nodesToAppend(leafHashes: Array(leaves[20...]), startingAt: 20, reader: writer)
            )
        }
        let reference = try InMemoryMerkleStore(leafHashes: leaves)
        try store.read { reader in
            #expect(try MerkleTree.rootHash(size: 37, reader: reader) == reference.rootHash())
            let proof = try MerkleTree.inclusionProof(leafIndex: 21, treeSize: 37, reader: reader)
            try MerkleProof.verifyInclusion(
                leafHash: leaves[21],
                leafIndex: 21,
                treeSize: 37,
                proof: proof,
                rootHash: reference.rootHash()
            )
            let consistency = try MerkleTree.consistencyProof(from: 20, to: 37, reader: reader)
            try MerkleProof.verifyConsistency(
                size1: 20,
                size2: 37,
                proof: consistency,
                root1: reference.rootHash(size: 20),
                root2: reference.rootHash()
            )
        }
    }
}
