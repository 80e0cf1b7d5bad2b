import CanonicalJSON
import Foundation
import MerkleLog
import RetraceCrypto
import Testing

@Suite("checkpoint, prove, roster, export and import")
struct LedgerCommandTests {
    static func ledgerWithEvents(_ work: Workspace) throws {
        try work.initLedger()
        for (type, time) in [("commission", "2026-03-02T10:00:00Z"), ("ship", "2026-03-02T11:00:00Z")] {
            let result = try RecordAppendTests.record(work, type, key: "northwind", time: time)
            guard result.code == 0 else { throw HarnessError(description: result.stderr) }
        }
    }

    @Test("checkpoint prints the signed note, which opens under the log key; --json gives its fields")
    func checkpoint() throws {
        let work = try Workspace()
        defer { work.remove() }
        try Self.ledgerWithEvents(work)
        let text = try work.run(["checkpoint", "--db", "ledger.sqlite"])
        #expect(text.code == 0)
        let parties = try #require(Workspace.parties)
        let opened = try Checkpoint.open(text.stdout, verifiers: [parties.log.verifier], origin: "retrace.test/cli")
        #expect(opened.size == 3)
        let json = try #require(try work.run(["checkpoint", "--db", "ledger.sqlite", "--json"]).json)
        #expect(json.integer("treeSize") == 3)
        #expect(json.string("root") == Hex.encode(opened.rootHash))
        #expect(json.string("note") == text.stdout)
        #expect(json.string("origin") == "retrace.test/cli")
    }

    @Test("prove prints inclusion and consistency proofs that verify against the checkpoint")
    func prove() throws {
        let work = try Workspace()
        defer { work.remove() }
        try Self.ledgerWithEvents(work)
        let head = try #require(try work.run(["checkpoint", "--db", "ledger.sqlite", "--json"]).json)
        let rootText = try #require(head.string("root"))
        let root = try #require(Hex.decode(rootText))
        let inclusion = try #require(try work.run(["prove", "--db", "ledger.sqlite", "--index", "1", "--json"]).json)
        #expect(inclusion.string("kind") == "inclusion")
        let proof = try #require(inclusion.array("proof")).compactMap { $0.stringValue.flatMap(Hex.decode) }
        let leaf = try #require(inclusion.string("leafHash").flatMap(Hex.decode))
        try MerkleProof.verifyInclusion(leafHash: leaf, leafIndex: 1, treeSize: 3, proof: proof, rootHash: root)
        let byEvent = try work.run([
            "prove", "--db", "ledger.sqlite", "--event", try #require(inclusion.string("event")), "--json",
        ])
        #expect(byEvent.json?.integer("index") == 1)
        let consistency = try #require(try work.run(["prove", "--db", "ledger.sqlite", "--from", "1", "--json"]).json)
        #expect(consistency.string("kind") == "consistency")
        #expect(consistency.integer("to") == 3)
        let cproof = try #require(consistency.array("proof")).compactMap { $0.stringValue.flatMap(Hex.decode) }
        try MerkleProof.verifyConsistency(
            size1: 1,
            size2: 3,
            proof: cproof,
            root1: try #require(consistency.string("fromRoot").flatMap(Hex.decode)),
            root2: root
        )
        for arguments in [
            ["--index", "9"], ["--from", "0"], ["--index", "1", "--from", "1"], [], ["--event", "zz"],
        ] {
            let bad = try work.run(["prove", "--db", "ledger.sqlite"] + arguments)
            #expect(bad.code == 2, "\(arguments)")
            #expect(bad.isOneLineError, "\(arguments): \(bad.stderr)")
        }
        let unknown = try work.run(["prove", "--db", "ledger.sqlite", "--event", String(repeating: "c", count: 64)])
        #expect(unknown.code == 1 && unknown.isOneLineError)
    }

    @Test("roster show lists the parties; add-party, rotate-key and revoke-key change it once signed")
    func rosterChanges() throws {
        let work = try Workspace()
        defer { work.remove() }
        try Self.ledgerWithEvents(work)
        let show = try work.run(["roster", "show", "--db", "ledger.sqlite", "--json"])
        #expect(show.code == 0)
        let parties = try #require(show.json?.object("document")?.array("parties"))
        #expect(parties.count == 10)
        #expect(try work.run(["roster", "show", "--db", "ledger.sqlite"]).stdout.contains("Northwind Devices"))

        #expect(try work.run(["keygen", "newco.test", "--out", "keys"]).code == 0)
        let newKey = String(decoding: try #require(work.bytes("keys/newco.test.pub")), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try work.write(
            "party.json",
            Array(
                """
                {"id":"newco","name":"NewCo Returns","roles":["returns-centre"],
                 "keys":[{"key":"\(newKey)","validFrom":"2026-01-01T00:00:00Z"}]}
                """.utf8
            )
        )
        let added = try work.run([
            "roster", "add-party", "--db", "ledger.sqlite", "--party", "party.json", "--out", "r1.json",
        ])
        #expect(added.code == 0, "\(added.stderr)")
        // Revoke Northwind's key from a time after its commission and ship, starting from r1.json.
        let revoked = try work.run([
            "roster", "revoke-key", "--from", "r1.json", "--key", "keys/northwind.pub", "--time",
            "2026-03-03T00:00:00Z",
            "--out", "r2.json",
        ])
        #expect(revoked.code == 0, "\(revoked.stderr)")
        // Only a governance key may sign a roster.
        let before = work.digest("ledger.sqlite")
        let forged = try work.run([
            "roster", "sign", "r2.json", "--db", "ledger.sqlite", "--governance-key", "keys/northwind.key",
            "--log-key", "keys/log.key",
        ])
        #expect(forged.code == 1, "\(forged.stderr)")
        #expect(forged.isOneLineError)
        #expect(work.digest("ledger.sqlite") == before)
        let signed = try work.run([
            "roster", "sign", "r2.json", "--db", "ledger.sqlite", "--governance-key", "keys/governance.key",
            "--log-key", "keys/log.key", "--time", "2026-03-03T00:00:00Z", "--json",
        ])
        #expect(signed.code == 0, "\(signed.stderr)")
        #expect(signed.json?.integer("treeSize") == 4)
        let now = try #require(try work.run(["roster", "show", "--db", "ledger.sqlite", "--json"]).json)
        #expect(now.object("document")?.array("parties")?.count == 11)
        #expect(now.object("document")?.array("revocations")?.count == 1)
        // Northwind's revoked key can no longer sign; its earlier events still verify.
        let late = try RecordAppendTests.record(work, "receive", key: "northwind", time: "2026-03-04T00:00:00Z")
        #expect(late.code == 1, "\(late.stderr)")
        #expect(try work.run(["history", RecordAppendTests.product, "--db", "ledger.sqlite"]).code == 0)
        // An edit that would make the roster invalid (a party id used twice) is refused.
        let twice = try work.run(["roster", "add-party", "--from", "r1.json", "--party", "party.json"])
        #expect(twice.code == 1 && twice.isOneLineError, "\(twice.stderr)")
        let unknownParty = try work.run([
            "roster", "rotate-key", "--db", "ledger.sqlite", "--party", "nobody", "--new-key", "keys/newco.test.pub",
        ])
        #expect(unknownParty.code == 2 && unknownParty.isOneLineError)
    }

    @Test("rotate-key gives a party a new key that signs, and retires the old one")
    func rotateKey() throws {
        let work = try Workspace()
        defer { work.remove() }
        try Self.ledgerWithEvents(work)
        #expect(try work.run(["keygen", "northwind2.test", "--out", "keys"]).code == 0)
        let rotated = try work.run([
            "roster", "rotate-key", "--db", "ledger.sqlite", "--party", "northwind", "--new-key",
            "keys/northwind2.test.pub", "--time", "2026-03-03T00:00:00Z", "--out", "r.json",
        ])
        #expect(rotated.code == 0, "\(rotated.stderr)")
        #expect(
            try work.run([
                "roster", "sign", "r.json", "--db", "ledger.sqlite", "--governance-key", "keys/governance.key",
                "--log-key", "keys/log.key", "--time", "2026-03-03T00:00:00Z",
            ]).code == 0
        )
        let old = try RecordAppendTests.record(work, "receive", key: "northwind", time: "2026-03-04T00:00:00Z")
        #expect(old.code == 1, "\(old.stderr)")
        let new = try RecordAppendTests.record(work, "receive", key: "northwind2.test", time: "2026-03-04T00:00:00Z")
        #expect(new.code == 0, "\(new.stderr)")
    }

    /// The anchors `import` audits the source under (issue 16 point 23): the user's, never the export's.
    static let trust = [
        "--trust-governance", "keys/governance.pub", "--trust-log", "keys/log.pub", "--origin", "retrace.test/cli",
    ]

    @Test("export writes JSON lines that import rebuilds into a new ledger with the same history")
    func exportImport() throws {
        let work = try Workspace()
        defer { work.remove() }
        try Self.ledgerWithEvents(work)
        let export = try work.run(["export", "--db", "ledger.sqlite", "--out", "export.jsonl", "--json"])
        #expect(export.code == 0, "\(export.stderr)")
        #expect(export.json?.integer("treeSize") == 3)
        let lines = String(decoding: try #require(work.bytes("export.jsonl")), as: UTF8.self).split(separator: "\n")
        #expect(lines.first?.contains("retrace-export/v1") == true)
        let again = try work.run(["export", "--db", "ledger.sqlite", "--out", "export.jsonl"])
        #expect(again.code == 2 && again.isOneLineError)
        let imported = try work.run(
            [
                "import", "export.jsonl", "--db", "copy.sqlite", "--log-key", "keys/log.key", "--json",
            ] + Self.trust
        )
        #expect(imported.code == 0, "\(imported.stderr)")
        #expect(imported.json?.integer("imported") == 3)
        let original = try work.run(["history", RecordAppendTests.product, "--db", "ledger.sqlite", "--json"])
        let copy = try work.run(["history", RecordAppendTests.product, "--db", "copy.sqlite", "--json"])
        #expect(
            original.json?.array("events")?.compactMap { $0.objectValue?.string("event") }
                == copy.json?.array("events")?.compactMap { $0.objectValue?.string("event") }
        )
        // Importing over an existing file, or a file that is not an export, is refused and creates nothing.
        let over = try work.run(
            ["import", "export.jsonl", "--db", "ledger.sqlite", "--log-key", "keys/log.key"] + Self.trust
        )
        #expect(over.code == 2 && over.isOneLineError)
        try work.write("bad.jsonl", Array("{\"format\":\"something-else\"}\n".utf8))
        for file in ["bad.jsonl", "missing.jsonl"] {
            let bad = try work.run(["import", file, "--db", "new.sqlite", "--log-key", "keys/log.key"] + Self.trust)
            #expect(bad.code == 2 && bad.isOneLineError, "\(file): \(bad.stderr)")
            #expect(!FileManager.default.fileExists(atPath: work.path("new.sqlite")))
        }
        // An export whose entry was altered is refused on import: nothing is left behind.
        var text = String(decoding: try #require(work.bytes("export.jsonl")), as: UTF8.self)
        text = text.replacingOccurrences(of: "2026-03-02T11:00:00Z", with: "2026-03-02T11:00:01Z")
        try work.write("tampered.jsonl", Array(text.utf8))
        let tampered = try work.run(
            ["import", "tampered.jsonl", "--db", "new.sqlite", "--log-key", "keys/log.key"] + Self.trust
        )
        #expect(tampered.code == 1, "\(tampered.stderr)")
        #expect(tampered.isOneLineError)
        #expect(!FileManager.default.fileExists(atPath: work.path("new.sqlite")))
        // Issue 16 point 23: the source is audited under the anchors the user gives before anything
        // is written. Under another governance key or another origin the export is refused (exit 1).
        let foreignKey = try work.run(
            [
                "import", "export.jsonl", "--db", "new.sqlite", "--log-key", "keys/log.key", "--trust-governance",
                "keys/northwind.pub", "--trust-log", "keys/log.pub", "--origin", "retrace.test/cli",
            ])
        #expect(foreignKey.code == 1 && foreignKey.stderr.contains("does not verify"), "\(foreignKey.stderr)")
        let foreignOrigin = try work.run(
            [
                "import", "export.jsonl", "--db", "new.sqlite", "--log-key", "keys/log.key", "--trust-governance",
                "keys/governance.pub", "--trust-log", "keys/log.pub", "--origin", "example.com/other",
            ])
        #expect(foreignOrigin.code == 1 && foreignOrigin.isOneLineError, "\(foreignOrigin.stderr)")
        #expect(!FileManager.default.fileExists(atPath: work.path("new.sqlite")))
    }
}
