import CanonicalJSON
import Foundation
import RetraceCrypto
import Testing

@Suite("keygen and init")
struct KeygenInitTests {
    @Test("keygen writes a 0600 private key and a public key that parse, and reports them as JSON")
    func keygenWritesKeyFiles() throws {
        let work = try Workspace()
        defer { work.remove() }
        let result = try work.run(["keygen", "acme.example", "--json"])
        #expect(result.code == 0)
        let json = try #require(result.json)
        #expect(json.string("name") == "acme.example")
        #expect(json.string("privateKeyFile") == "./acme.example.key")
        let attributes = try FileManager.default.attributesOfItem(atPath: work.path("acme.example.key"))
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let signer = try NoteSigner(
            parsing: String(decoding: try #require(work.bytes("acme.example.key")), as: UTF8.self)
        )
        let pub = String(decoding: try #require(work.bytes("acme.example.pub")), as: UTF8.self)
        #expect(pub == signer.verifier.description + "\n")
        #expect(json.string("verifierKey") == signer.verifier.description)
        #expect(json.string("fingerprint")?.count == 64)
    }

    @Test("keygen refuses a bad name and an existing key with exit 2 and one line")
    func keygenRefusals() throws {
        let work = try Workspace()
        defer { work.remove() }
        let bad = try work.run(["keygen", "has space"])
        #expect(bad.code == 2)
        #expect(bad.isOneLineError)
        #expect(try work.run(["keygen", "acme"]).code == 0)
        let before = work.bytes("acme.key")
        let again = try work.run(["keygen", "acme"])
        #expect(again.code == 2)
        #expect(again.isOneLineError)
        #expect(work.bytes("acme.key") == before)
        // Issue 12: --out creates a missing folder (a new party's key folder) instead of refusing.
        let newDirectory = try work.run(["keygen", "x", "--out", "parties/x"])
        #expect(newDirectory.code == 0, "\(newDirectory.stderr)")
        #expect((work.bytes("parties/x/x.key")?.count ?? 0) > 0)
        let onAFile = try work.run(["keygen", "y", "--out", "acme.key"])
        #expect(onAFile.code == 2 && onAFile.isOneLineError)
    }

    @Test("init creates a ledger with the roster as entry 0 and reports its shape as JSON")
    func initCreatesLedger() throws {
        let work = try Workspace()
        defer { work.remove() }
        let result = try work.run([
            "init", "--db", "l.sqlite", "--origin", "example.com/log", "--log-key", "keys/log.key",
            "--governance-key", "keys/governance.key", "--roster", "keys/roster.json", "--json",
        ])
        #expect(result.code == 0, "\(result.stderr)")
        let json = try #require(result.json)
        #expect(json.string("origin") == "example.com/log")
        #expect(json.integer("treeSize") == 1)
        #expect(json.string("roster")?.count == 64)
        #expect(json.string("checkpoint")?.hasPrefix("example.com/log\n1\n") == true)
        #expect(json.array("governance")?.count == 1)
        let text = try work.run(["checkpoint", "--db", "l.sqlite"])
        #expect(text.code == 0)
        #expect(text.stdout.hasPrefix("example.com/log\n1\n"))
    }

    @Test("init refuses bad inputs with exit 2, one line, and creates no file")
    func initRefusals() throws {
        let work = try Workspace()
        defer { work.remove() }
        try work.write("broken.json", Array("{\"version\":1,".utf8))
        try work.write("garbage.key", Array("not a key\n".utf8))
        let cases: [[String]] = [
            ["--roster", "missing.json", "--log-key", "keys/log.key", "--governance-key", "keys/governance.key"],
            ["--roster", "broken.json", "--log-key", "keys/log.key", "--governance-key", "keys/governance.key"],
            ["--roster", "keys/roster.json", "--log-key", "garbage.key", "--governance-key", "keys/governance.key"],
            // A party's key is not a governance key of the roster: refused before anything is written.
            ["--roster", "keys/roster.json", "--log-key", "keys/log.key", "--governance-key", "keys/northwind.key"],
            ["--roster", "keys/roster.json", "--log-key", "keys/log.key", "--governance-key", "keys/nothere.key"],
        ]
        for arguments in cases {
            let result = try work.run(["init", "--db", "new.sqlite", "--origin", "o"] + arguments)
            #expect(result.code == 2, "\(arguments)")
            #expect(result.isOneLineError, "\(arguments): \(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: work.path("new.sqlite")), "\(arguments)")
        }
        try work.initLedger()
        let before = work.digest("ledger.sqlite")
        let again = try work.run([
            "init", "--db", "ledger.sqlite", "--origin", "o", "--log-key", "keys/log.key", "--governance-key",
            "keys/governance.key", "--roster", "keys/roster.json",
        ])
        #expect(again.code == 2 && again.isOneLineError)
        #expect(work.digest("ledger.sqlite") == before)
    }
}
