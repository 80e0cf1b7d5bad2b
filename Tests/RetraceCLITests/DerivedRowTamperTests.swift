import CanonicalJSON
import Foundation
import GRDB
import Testing

/// Someone with write access to the demo ledger drops the append-only triggers and edits derived
/// rows; every online verification through the CLI must then say `ledger-integrity-failure` (or
/// refuse), never answer from a shorter history. The issue's own case: the last `chain_links` row
/// of the phone certified recycled deleted turned `end-of-life` into `already-returned`.
@Suite("derived rows edited in the ledger file, through the CLI")
struct DerivedRowTamperTests {
    static let pinned = ["--governance-key", "keys/governance.pub", "--log-key", "keys/log.pub"]

    /// Runs `edit` on the demo file with the triggers dropped.
    static func tamper(_ work: Workspace, _ edit: (Database) throws -> Void) throws {
        let queue = try DatabaseQueue(path: work.path("retrace-demo.sqlite"))
        try queue.write { db in
            for table in ["chain_links", "products"] {
                try db.execute(sql: "DROP TRIGGER IF EXISTS \(table)_no_update")
                try db.execute(sql: "DROP TRIGGER IF EXISTS \(table)_no_delete")
            }
            try edit(db)
        }
        try queue.close()
    }

    static func digitalLink(_ work: Workspace, _ scan: String) throws -> String {
        try #require(try work.run(["identify", scan, "--json"]).json?.string("digitalLink"))
    }

    @Test(
        "a deleted, altered or added chain row of a recycled, a returned and a stolen item gives ledger-integrity-failure",
        arguments: ["delete-newest", "alter-newest", "add", "delete-all"]
    )
    func chainRows(edit: String) throws {
        let work = try Workspace()
        defer { work.remove() }
        let demo = try VerificationCLITests.demo(work)
        let scans = VerificationCLITests.scans(demo)
        var targets: [(scan: String, dock: String)] = []
        for expected in ["end-of-life", "already-returned", "reported-stolen"] {
            let scan = try #require(scans.first { $0.string("expected") == expected })
            targets.append((try #require(scan.string("scan")), try #require(scan.string("dock"))))
        }
        let links = try targets.map { try Self.digitalLink(work, $0.scan) }
        try Self.tamper(work) { db in
            for link in links {
                switch edit {
                case "delete-newest":
                    try db.execute(
                        sql:
                            "DELETE FROM chain_links WHERE chain = ? AND seq = (SELECT MAX(seq) FROM chain_links WHERE chain = ?)",
                        arguments: [link, link]
                    )
                case "alter-newest":
                    try db.execute(
                        sql:
                            "UPDATE chain_links SET idx = idx - 1 WHERE chain = ? AND seq = (SELECT MAX(seq) FROM chain_links WHERE chain = ?)",
                        arguments: [link, link]
                    )
                case "add":
                    try db.execute(
                        sql: """
                            INSERT INTO chain_links (chain, seq, idx, state)
                            SELECT chain, seq + 1, 0, state FROM chain_links
                            WHERE chain = ? ORDER BY seq DESC LIMIT 1
                            """,
                        arguments: [link]
                    )
                default:
                    try db.execute(sql: "DELETE FROM chain_links WHERE chain = ?", arguments: [link])
                }
            }
        }
        for (target, link) in zip(targets, links) {
            for keys in [[], Self.pinned] {
                let scan = try work.run(
                    ["scan", target.scan, "--db", "retrace-demo.sqlite", "--dock", target.dock, "--json"] + keys
                )
                #expect(
                    scan.code == 1 && scan.json?.string("verdict") == "ledger-integrity-failure",
                    "\(edit) \(link): \(scan.stdout) \(scan.stderr)"
                )
                let history = try work.run(["history", link, "--db", "retrace-demo.sqlite"] + keys)
                #expect(
                    history.code == 1 && history.stdout.isEmpty,
                    "\(edit) \(link): \(history.stdout) \(history.stderr)"
                )
                let recycling = try work.run(["verify-recycling", link, "--db", "retrace-demo.sqlite"] + keys)
                #expect(
                    recycling.code == 1 && !recycling.stdout.contains("VERIFIED "),
                    "\(edit) \(link): \(recycling.stdout)"
                )
            }
        }
    }

    @Test("with its product row and chain rows deleted, a real product is not reported unknown-serial")
    func deletedProduct() throws {
        let work = try Workspace()
        defer { work.remove() }
        let demo = try VerificationCLITests.demo(work)
        let scan = try #require(VerificationCLITests.scans(demo).first { $0.string("expected") == "end-of-life" })
        let link = try Self.digitalLink(work, try #require(scan.string("scan")))
        try Self.tamper(work) { db in
            try db.execute(sql: "DELETE FROM chain_links WHERE chain = ?", arguments: [link])
            try db.execute(sql: "DELETE FROM products WHERE product = ?", arguments: [link])
        }
        let result = try work.run(["scan", link, "--db", "retrace-demo.sqlite", "--json"] + Self.pinned)
        #expect(result.json?.string("verdict") == "ledger-integrity-failure", "\(result.stdout)")
        // An untouched unknown serial still proves its absence.
        let unknown = try work.run(["scan", "(01)09506000134352(21)NOSUCH1", "--db", "retrace-demo.sqlite", "--json"])
        #expect(unknown.json?.string("verdict") == "unknown-serial")
        #expect(unknown.json?.string("absenceProof")?.isEmpty == false)
    }
}
