import CanonicalJSON
import Foundation
import RetraceEvents
import RetraceIdentity
import RetraceSimulation
import Testing

@Suite("record and append")
struct RecordAppendTests {
    static let product = "(01)09506000134352(21)CLI001"

    static func record(
        _ work: Workspace,
        _ type: String,
        key: String,
        time: String,
        _ extra: [String] = []
    )
        throws -> CLIResult
    {
        try work.run(
            [
                "record", type, "--db", "ledger.sqlite", "--key", "keys/\(key).key", "--product", product, "--time",
                time,
                "--log-key", "keys/log.key",
            ] + extra
        )
    }

    @Test("record builds, signs and appends a product's events, reading its head automatically")
    func recordFlow() throws {
        let work = try Workspace()
        defer { work.remove() }
        try work.initLedger()
        let commission = try Self.record(
            work,
            "commission",
            key: "northwind",
            time: "2026-03-02T10:00:00Z",
            ["--location", "9506000000015", "--detail", "massGrams=180", "--json"]
        )
        #expect(commission.code == 0, "\(commission.stderr)")
        let json = try #require(commission.json)
        #expect(json.integer("treeSize") == 2)
        let appended = try #require(json.array("appended")?.first?.objectValue)
        #expect(appended.integer("index") == 1)
        #expect(appended.string("event")?.count == 64)
        #expect(json.string("checkpoint")?.contains("\n2\n") == true)
        let ship = try Self.record(work, "ship", key: "northwind", time: "2026-03-02T11:00:00Z")
        #expect(ship.code == 0, "\(ship.stderr)")
        #expect(ship.stdout.contains("tree size 3"))
        let history = try work.run(["history", Self.product, "--db", "ledger.sqlite", "--json"])
        #expect(history.code == 0, "\(history.stderr)")
        let events = try #require(history.json?.array("events"))
        #expect(events.map { $0.objectValue?.string("type") } == ["commission", "ship"])
        #expect(events.first?.objectValue?.string("party") == "northwind")
    }

    @Test("record product-class describes a GTIN on its class chain; history shows it; another prefix is refused")
    func recordProductClass() throws {
        let work = try Workspace()
        defer { work.remove() }
        try work.initLedger()
        #expect(try Self.record(work, "commission", key: "northwind", time: "2026-03-02T10:00:00Z").code == 0)
        func describe(_ key: String, _ extra: [String]) throws -> CLIResult {
            try work.run(
                [
                    "record", "product-class", "--gtin", "9506000134352", "--db", "ledger.sqlite", "--key",
                    "keys/\(key).key", "--time", "2026-03-02T10:30:00Z", "--log-key", "keys/log.key",
                ] + extra
            )
        }
        let first = try describe("northwind", ["--detail", "name=Phone X", "--detail", "model=NX-26"])
        #expect(first.code == 0, "\(first.stderr)")
        let correction = try describe("northwind", ["--detail", "name=Phone X (2026)"])
        #expect(correction.code == 0, "\(correction.stderr)")
        let history = try work.run(["history", Self.product, "--db", "ledger.sqlite", "--json"])
        #expect(history.code == 0, "\(history.stderr)")
        let productClass = try #require(history.json?["productClass"]?.objectValue)
        #expect(productClass.string("name") == "Phone X (2026)")
        #expect(productClass.integer("index") == 3)
        let text = try work.run(["history", Self.product, "--db", "ledger.sqlite"])
        #expect(text.stdout.contains("class     Phone X (2026) (GTIN 09506000134352"), "\(text.stdout)")
        let foreign = try describe("contoso", ["--detail", "name=Phone X"])
        #expect(foreign.code == 1 && foreign.stderr.contains("L4 own-prefix"), "\(foreign.stderr)")
        let stale = try describe("northwind", ["--detail", "name=Phone X", "--previous", "none"])
        #expect(stale.code == 1 && stale.stderr.contains("C1 chain-head"), "\(stale.stderr)")
        let withProduct = try describe("northwind", ["--detail", "name=Phone X", "--product", Self.product])
        #expect(withProduct.code == 2, "\(withProduct.stderr)")
    }

    @Test("an illegal event is refused with exit 1, one line naming the rule, and the ledger unchanged")
    func illegalEventsRefused() throws {
        let work = try Workspace()
        defer { work.remove() }
        try work.initLedger()
        #expect(try Self.record(work, "commission", key: "northwind", time: "2026-03-02T10:00:00Z").code == 0)
        let before = work.digest("ledger.sqlite")
        let cases: [(String, String, String, [String])] = [
            // Selling an item still at the brand owner's: no sale before it reaches a retailer.
            (
                "sell", "fabrikam", "2026-03-02T12:00:00Z",
                ["--detail", "orderDigest=\(String(repeating: "a", count: 64))"]
            ),
            // A carrier may not commission, and the serial exists already.
            ("commission", "wingtip", "2026-03-02T12:00:00Z", []),
            ("commission", "northwind", "2026-03-02T12:00:00Z", []),
            // Recycling by a party that is not a recycler.
            ("recycle", "litware", "2026-03-02T12:00:00Z", []),
            // A fork: a previous event that is not the head.
            ("ship", "northwind", "2026-03-02T12:00:00Z", ["--previous", String(repeating: "b", count: 64)]),
            // Dated far in the future.
            ("ship", "northwind", "2099-01-01T00:00:00Z", []),
        ]
        for (type, key, time, extra) in cases {
            let result = try Self.record(work, type, key: key, time: time, extra)
            #expect(result.code == 1, "\(type) by \(key): \(result.stderr)")
            #expect(result.isOneLineError, "\(type) by \(key): \(result.stderr)")
            #expect(result.stderr.contains("refused"), "\(result.stderr)")
            #expect(work.digest("ledger.sqlite") == before, "\(type) by \(key) changed the ledger")
        }
    }

    @Test("a key outside the roster is refused as untrusted (exit 1); a bad key file is exit 2")
    func keyProblems() throws {
        let work = try Workspace()
        defer { work.remove() }
        try work.initLedger()
        #expect(try work.run(["keygen", "stranger", "--out", "keys"]).code == 0)
        let before = work.digest("ledger.sqlite")
        let stranger = try Self.record(work, "commission", key: "stranger", time: "2026-03-02T10:00:00Z")
        #expect(stranger.code == 1, "\(stranger.stderr)")
        #expect(stranger.isOneLineError)
        #expect(stranger.stderr.contains("untrusted"))
        try work.write("keys/garbage.key", Array("PRIVATE+KEY+x+00000000+AAAA\n".utf8))
        for key in ["garbage", "missing"] {
            let result = try Self.record(work, "commission", key: key, time: "2026-03-02T10:00:00Z")
            #expect(result.code == 2, "\(key)")
            #expect(result.isOneLineError, "\(key): \(result.stderr)")
        }
        // A key path that cannot be read as a file (a directory; the tests may run as root, so
        // permission bits would not stop them).
        try FileManager.default.createDirectory(atPath: work.path("keys/dir.key"), withIntermediateDirectories: true)
        let unreadable = try Self.record(work, "commission", key: "dir", time: "2026-03-02T10:00:00Z")
        #expect(unreadable.code == 2 && unreadable.isOneLineError, "\(unreadable.stderr)")
        // The wrong log key: a key that is not this ledger's.
        let wrongLog = try work.run([
            "record", "commission", "--db", "ledger.sqlite", "--key", "keys/northwind.key", "--product", Self.product,
            "--time", "2026-03-02T10:00:00Z", "--log-key", "keys/northwind.key",
        ])
        #expect(wrongLog.code == 2, "\(wrongLog.stderr)")
        #expect(wrongLog.isOneLineError)
        #expect(work.digest("ledger.sqlite") == before)
    }

    @Test("record rejects a bad barcode, an unknown event type and a bad detail with exit 2")
    func recordBadArguments() throws {
        let work = try Workspace()
        defer { work.remove() }
        try work.initLedger()
        let before = work.digest("ledger.sqlite")
        let cases: [[String]] = [
            ["record", "commission", "--product", "(01)09506000134353(21)X"],
            ["record", "teleport", "--product", Self.product],
            ["record", "commission", "--product", Self.product, "--detail", "novalue"],
            ["record", "commission", "--product", Self.product, "--time", "yesterday"],
            ["record", "commission", "--product", Self.product, "--location", "123"],
        ]
        for arguments in cases {
            let result = try work.run(
                arguments + ["--db", "ledger.sqlite", "--key", "keys/northwind.key", "--log-key", "keys/log.key"]
            )
            #expect(result.code == 2, "\(arguments): \(result.stderr)")
            #expect(result.isOneLineError, "\(arguments): \(result.stderr)")
        }
        #expect(work.digest("ledger.sqlite") == before)
    }

    static func line(_ signed: SignedStatement) throws -> [UInt8] { try CanonicalJSON.encode(signed.json) + [0x0a] }

    static func statements() throws -> [SignedStatement] {
        let parties = try #require(Workspace.parties)
        let product = try SGTIN(gtin: GTIN("09506000134352"), serial: Serial("BATCH1"))
        let t0 = try Timestamp(parsing: "2026-03-02T10:00:00Z")
        let commission = try parties.sign(.commission, product: product, previous: nil, by: "northwind", at: t0)
        let ship = try parties.sign(
            .ship,
            product: product,
            previous: commission.id,
            by: "northwind",
            at: t0.adding(seconds: 60)
        )
        return [commission, ship]
    }

    @Test("append takes pre-signed JSON lines from standard input or files as one batch")
    func appendBatch() throws {
        let work = try Workspace()
        defer { work.remove() }
        try work.initLedger()
        let statements = try Self.statements()
        let input = try statements.flatMap(Self.line)
        let result = try work.run(
            ["append", "--db", "ledger.sqlite", "--log-key", "keys/log.key", "--json"],
            input: input
        )
        #expect(result.code == 0, "\(result.stderr)")
        #expect(result.json?.array("appended")?.count == 2)
        #expect(result.json?.integer("treeSize") == 3)
        // The same statements again: duplicates, refused as a rule (exit 1), nothing written.
        try work.write("again.jsonl", input)
        let before = work.digest("ledger.sqlite")
        let again = try work.run(["append", "--db", "ledger.sqlite", "--log-key", "keys/log.key", "again.jsonl"])
        #expect(again.code == 1, "\(again.stderr)")
        #expect(again.isOneLineError)
        #expect(work.digest("ledger.sqlite") == before)
    }

    @Test("append refuses malformed JSON, non-canonical JSON and a batch with one bad statement, writing nothing")
    func appendRefusals() throws {
        let work = try Workspace()
        defer { work.remove() }
        try work.initLedger()
        let statements = try Self.statements()
        let good = try Self.line(statements[0])
        let before = work.digest("ledger.sqlite")
        let spaced = Array(String(decoding: good, as: UTF8.self).replacingOccurrences(of: "\":", with: "\": ").utf8)
        for (input, code) in [
            (Array("{\"statement\":".utf8), Int32(2)), (spaced, 2), (good + Array("not json\n".utf8), 2),
            (Array("\n\n".utf8), 2),
            // The ship alone names a previous event that is not in the log: the batch is refused.
            (try Self.line(statements[1]) + good, 1),
        ] {
            let result = try work.run(["append", "--db", "ledger.sqlite", "--log-key", "keys/log.key"], input: input)
            #expect(result.code == code, "\(result.stderr)")
            #expect(result.isOneLineError, "\(result.stderr)")
            #expect(work.digest("ledger.sqlite") == before)
        }
        let missing = try work.run(["append", "--db", "ledger.sqlite", "--log-key", "keys/log.key", "nothere.jsonl"])
        #expect(missing.code == 2 && missing.isOneLineError)
    }
}
