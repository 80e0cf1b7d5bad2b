import Foundation
import GRDB
import Testing

@Suite("bad databases and bad arguments")
struct BadInputTests {
    /// Read commands and write commands, each pointed at `ledger.sqlite`.
    static let commands: [[String]] = [
        ["checkpoint", "--db", "ledger.sqlite"],
        ["history", "(01)09506000134352(21)CLI001", "--db", "ledger.sqlite"],
        ["scan", "(01)09506000134352(21)CLI001", "--db", "ledger.sqlite"],
        ["prove", "--db", "ledger.sqlite", "--index", "0"],
        ["roster", "show", "--db", "ledger.sqlite"],
        ["export", "--db", "ledger.sqlite", "--out", "out.jsonl"],
        ["audit", "--db", "ledger.sqlite"],
        ["verify-recycling", "CERT-1", "--db", "ledger.sqlite"],
        ["bundle", "(01)09506000134352(21)CLI001", "--db", "ledger.sqlite", "--out", "b.json"],
        [
            "record", "commission", "--db", "ledger.sqlite", "--key", "keys/northwind.key", "--product",
            "(01)09506000134352(21)CLI001", "--log-key", "keys/log.key",
        ],
        ["append", "--db", "ledger.sqlite", "--log-key", "keys/log.key", "statements.jsonl"],
    ]

    static func prepare(_ work: Workspace) throws {
        try work.write("statements.jsonl", Array("{}\n".utf8))
    }

    @Test("a missing database gives exit 2 and one line for every command", arguments: 0..<11)
    func missingDatabase(_ index: Int) throws {
        let work = try Workspace()
        defer { work.remove() }
        try Self.prepare(work)
        let result = try work.run(Self.commands[index])
        #expect(result.code == 2, "\(Self.commands[index]): \(result.stderr)")
        #expect(result.isOneLineError, "\(Self.commands[index]): \(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: work.path("ledger.sqlite")))
    }

    @Test("a file of random bytes is not a ledger: exit 2, one line, file unchanged", arguments: 0..<11)
    func randomBytes(_ index: Int) throws {
        let work = try Workspace()
        defer { work.remove() }
        try Self.prepare(work)
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<8192).map { _ in UInt8.random(in: 0...255, using: &generator) }
        try work.write("ledger.sqlite", bytes)
        let result = try work.run(Self.commands[index])
        #expect(result.code == 2, "\(Self.commands[index]): \(result.stderr)")
        #expect(result.isOneLineError, "\(Self.commands[index]): \(result.stderr)")
        #expect(work.bytes("ledger.sqlite") == bytes, "the random file changed")
    }

    @Test("an unrelated SQLite database is not a ledger: exit 2, one line, file unchanged", arguments: 0..<11)
    func unrelatedSQLite(_ index: Int) throws {
        let work = try Workspace()
        defer { work.remove() }
        try Self.prepare(work)
        let queue = try DatabaseQueue(path: work.path("ledger.sqlite"))
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
            try db.execute(sql: "INSERT INTO customers (name) VALUES ('Ada')")
        }
        try queue.close()
        let before = work.digest("ledger.sqlite")
        let result = try work.run(Self.commands[index])
        #expect(result.code == 2, "\(Self.commands[index]): \(result.stderr)")
        #expect(result.isOneLineError, "\(Self.commands[index]): \(result.stderr)")
        #expect(result.stderr.contains("not a Retrace ledger"), "\(result.stderr)")
        #expect(work.digest("ledger.sqlite") == before)
    }

    @Test("a truncated ledger file cannot be read: exit 2, one line, file unchanged", arguments: 0..<11)
    func truncatedLedger(_ index: Int) throws {
        let work = try Workspace()
        defer { work.remove() }
        try Self.prepare(work)
        try work.initLedger()
        let whole = try #require(work.bytes("ledger.sqlite"))
        let truncated = Array(whole.prefix(whole.count / 3))
        try work.write("ledger.sqlite", truncated)
        let result = try work.run(Self.commands[index])
        #expect(result.code == 2, "\(Self.commands[index]): \(result.stderr)")
        #expect(result.isOneLineError, "\(Self.commands[index]): \(result.stderr)")
        #expect(work.bytes("ledger.sqlite") == truncated, "the truncated file changed")
    }

    @Test(
        "argument errors exit 2 with one line, not ArgumentParser's 64",
        arguments: [
            ["checkpoint"], ["frobnicate"], ["checkpoint", "--db", "x", "--bogus"], ["prove", "--db", "x"],
            ["audit"], ["audit", "--db", "a", "--export", "b"], ["scan"], ["record", "ship"],
            ["keygen"], ["roster", "sign"],
        ]
    )
    func argumentErrors(_ arguments: [String]) throws {
        let work = try Workspace()
        defer { work.remove() }
        let result = try work.run(arguments)
        #expect(result.code == 2, "\(arguments): \(result.stderr)")
        #expect(result.isOneLineError, "\(arguments): \(result.stderr)")
    }

    @Test("help exits 0 and lists every subcommand")
    func help() throws {
        let work = try Workspace()
        defer { work.remove() }
        let result = try work.run(["--help"])
        #expect(result.code == 0)
        for command in [
            "demo", "init", "keygen", "roster", "record", "append", "identify", "scan", "history", "bundle",
            "verify-bundle", "verify-recycling", "checkpoint", "prove", "audit", "insights", "export", "import",
        ] {
            #expect(result.stdout.contains("  \(command)"), "\(command)")
        }
        #expect(try work.run(["help", "record"]).code == 0)
    }
}
