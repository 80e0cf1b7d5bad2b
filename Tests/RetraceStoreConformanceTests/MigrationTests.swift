import Foundation
import RetraceLedger
import RetracePostgres
import RetraceStorage
import RetraceTestSupport
import Testing

/// `retrace migrate` between the engines, as an operator runs it: SQLite → PostgreSQL → SQLite gives
/// back the same log byte for byte, and a source that fails its audit is not copied at all.
@Suite("retrace migrate between SQLite and PostgreSQL", .serialized)
struct MigrationTests {
    static let keys = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("keys")

    static func migrate(_ from: String, _ to: String) throws -> (Int32, String) {
        try retrace([
            "migrate", "--from", from, "--to", to, "--governance-key",
            keys.appendingPathComponent("governance.pub").path,
            "--log-public-key", keys.appendingPathComponent("log.pub").path,
            "--log-key", keys.appendingPathComponent("log.key").path, "--batch", "150",
        ])
    }

    /// Runs the built `retrace` to completion (in `directory` when given): exit status and output.
    static func retrace(_ arguments: [String], in directory: URL? = nil) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = try BuiltExecutable.locate("retrace", override: "RETRACE_BIN")
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static func everything(_ store: any LedgerStore) throws -> ([StoredEntry], [StoredCheckpoint]) {
        try store.read { reader in
            var entries: [StoredEntry] = []
            try reader.forEachEntry(from: 0, to: try reader.treeSize()) { entries.append($0) }
            return (entries, try reader.checkpoints())
        }
    }

    @Test("SQLite → PostgreSQL → SQLite: every entry, received time and checkpoint note identical")
    func roundTrip() throws {
        guard Backend.postgres.available else { return }
        let original = try ScratchLocation(.sqlite)
        let middle = try ScratchLocation(.postgres)
        let back = try ScratchLocation(.sqlite)
        defer {
            original.remove()
            middle.remove()
            back.remove()
        }
        let ledger = try LedgerStoreConformanceTests.ledger(on: try original.create())
        let statements = try LedgerStoreConformanceTests.statements(700)
        // Uneven appends, so checkpoints fall at irregular sizes.
        var start = 0
        for size in [1, 37, 200, 5, 300, 157] where start < statements.count {
            let end = min(statements.count, start + size)
            try ledger.append(Array(statements[start..<end]))
            start = end
        }
        if start < statements.count { try ledger.append(Array(statements[start...])) }

        let (there, thereOutput) = try Self.migrate(original.db, middle.db)
        #expect(there == 0, "\(thereOutput)")
        let (home, homeOutput) = try Self.migrate(middle.db, back.db)
        #expect(home == 0, "\(homeOutput)")

        let source = try Self.everything(try original.open(readOnly: true))
        #expect(source.0.count == statements.count + 1)
        #expect(source.1.count >= 7)
        #expect(source.0.contains { !$0.members.isEmpty })
        #expect(try Self.everything(try middle.open(readOnly: true)) == source)
        #expect(try Self.everything(try back.open(readOnly: true)) == source)
    }

    @Test("init onto a PostgreSQL schema that holds a ledger is refused, and that ledger is left whole")
    func createOverExisting() throws {
        guard Backend.postgres.available else { return }
        let target = try ScratchLocation(.postgres)
        defer { target.remove() }
        let ledger = try LedgerStoreConformanceTests.ledger(on: try target.create())
        try ledger.append(Array(try LedgerStoreConformanceTests.statements(12)))
        let before = try Self.everything(try target.open(readOnly: true))
        let process = Process()
        process.executableURL = try BuiltExecutable.locate("retrace", override: "RETRACE_BIN")
        process.arguments = [
            "init", "--db", target.db, "--origin", "retrace.test/cli", "--log-key",
            Self.keys.appendingPathComponent("log.key").path, "--governance-key",
            Self.keys.appendingPathComponent("governance.key").path, "--roster",
            Self.keys.appendingPathComponent("roster.json").path, "--time", "2026-03-02T09:00:00Z",
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 2, "\(text)")
        #expect(text.contains("already has a schema"), "\(text)")
        #expect(try Self.everything(try target.open(readOnly: true)) == before)
    }

    @Test("a schema created and then left unfilled is dropped whole; a schema that is no ledger is never dropped")
    func dropCreated() throws {
        guard Backend.postgres.available else { return }
        let target = try ScratchLocation(.postgres)
        defer { target.remove() }
        _ = try target.create()
        let store = try PostgresLedgerStore.open(url: target.db)
        try store.dropCreated()
        #expect(throws: StorageError(.notFound, "")) { try target.open() }
        let stranger = try ScratchLocation(.postgres)
        defer { stranger.remove() }
        let made = try stranger.rawExecute(
            "CREATE SCHEMA \(stranger.schema); CREATE TABLE \(stranger.schema).t (x int)"
        )
        #expect(made.accepted, "\(made.message)")
        #expect(throws: StorageError.self) { try PostgresLedgerStore.open(url: stranger.db).dropCreated() }
    }

    @Test("A source whose entry was altered is refused before anything is written")
    func tamperedSource() throws {
        guard Backend.postgres.available else { return }
        let original = try ScratchLocation(.sqlite)
        let target = try ScratchLocation(.postgres)
        defer {
            original.remove()
            target.remove()
        }
        let ledger = try LedgerStoreConformanceTests.ledger(on: try original.create())
        try ledger.append(Array(try LedgerStoreConformanceTests.statements(120)))
        // Someone with write access drops the guard and edits a received time.
        let edit = try original.rawExecute(
            "DROP TRIGGER entries_no_update; UPDATE entries SET received = received + 1 WHERE idx = 40"
        )
        #expect(edit.accepted, "\(edit.message)")
        let (status, output) = try Self.migrate(original.db, target.db)
        #expect(status == 1, "\(output)")
        #expect(output.contains("does not pass its audit"), "\(output)")
        #expect(throws: StorageError(.notFound, "")) { try target.open() }
    }
}

/// `retrace demo` on a PostgreSQL ledger: its bundle, keys and scan journal are files, and a URL has
/// no folder to put them beside, so they go to the working directory under the schema's name.
@Suite("retrace demo on PostgreSQL")
struct DemoOnPostgresTests {
    @Test("the demo plays into a schema and writes its files as retrace-demo-<schema>-…; audit passes")
    func demoOnPostgres() throws {
        guard Backend.postgres.available else { return }
        let location = try ScratchLocation(.postgres)
        defer {
            location.remove()
            try? FileManager.default.removeItem(at: location.directory)
        }
        let (status, output) = try MigrationTests.retrace(["demo", "--db", location.db], in: location.directory)
        #expect(status == 0, "\(output)")
        for suffix in ["-bundle.json", "-scans.jsonl", "-keys/log.pub"] {
            let path = location.directory.appendingPathComponent("retrace-demo-\(location.schema)\(suffix)").path
            #expect(FileManager.default.fileExists(atPath: path), "\(path) missing")
        }
        let (audited, report) = try MigrationTests.retrace(["audit", "--db", location.db])
        #expect(audited == 0, "\(report)")

        // Again on the same schema: refused without --force, the ledger kept; replaced with it.
        let (again, refusal) = try MigrationTests.retrace(["demo", "--db", location.db], in: location.directory)
        #expect(again != 0)
        #expect(refusal.contains("already"), "\(refusal)")
        #expect(try MigrationTests.retrace(["audit", "--db", location.db]).0 == 0)
        let (forced, replaced) = try MigrationTests.retrace(
            ["demo", "--force", "--db", location.db],
            in: location.directory
        )
        #expect(forced == 0, "\(replaced)")
        #expect(try MigrationTests.retrace(["audit", "--db", location.db]).0 == 0)
    }

    @Test("demo --force on a schema that is not a Retrace ledger refuses and leaves it alone")
    func forceKeepsForeignSchema() throws {
        guard Backend.postgres.available else { return }
        let location = try ScratchLocation(.postgres)
        defer {
            location.remove()
            try? FileManager.default.removeItem(at: location.directory)
        }
        #expect(
            try location.rawExecute(
                "RESET search_path; CREATE SCHEMA \(location.schema); CREATE TABLE \(location.schema).mine (x INT)"
            ).accepted
        )
        let (status, output) = try MigrationTests.retrace(
            ["demo", "--force", "--db", location.db],
            in: location.directory
        )
        #expect(status == 2, "\(output)")
        #expect(output.contains("no Retrace ledger"), "\(output)")
        #expect(try location.rawExecute("SELECT * FROM mine").accepted)
    }
}
