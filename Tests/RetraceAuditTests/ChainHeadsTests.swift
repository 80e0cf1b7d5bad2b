import CanonicalJSON
import Foundation
import GRDB
import RetraceCrypto
import RetraceLedger
import RetraceRules
import RetraceSimulation
import RetraceStorage
import Testing

@testable import RetraceAudit

/// The audit's bounded memory: product heads beyond the resident limit go to a scratch file and
/// must come back exactly, and an audit that spills must reach the same findings.
struct ChainHeadsTests {
    /// Real heads: each product of the story ledger with its stored state after its last event.
    static func storyHeads() throws -> [(String, ChainHead)] {
        let keys = try Attacker.query { db in
            try String.fetchAll(db, sql: "SELECT product FROM products ORDER BY passport LIMIT 120")
        }
        let store = try Shared.open(Shared.story.path)
        return try store.read { reader in
            try keys.compactMap { key -> (String, ChainHead)? in
                let links = try reader.chain(key)
                guard let last = links.last else { return nil }
                let state = try ProductState(json: CanonicalJSON.decode(last.state))
                let digest = SHA256.hash(Array(key.utf8))
                return (
                    key,
                    ChainHead(
                        eventID: last.eventID,
                        sequence: last.sequence,
                        state: state,
                        linkDigest: digest,
                        lastIndex: last.index,
                        commissionIndex: links[0].index
                    )
                )
            }
        }
    }

    @Test("heads beyond the resident limit are written out and read back unchanged, in key order")
    func spillAndReload() throws {
        let heads = try Self.storyHeads()
        #expect(heads.count >= 100)
        var table = ChainHeads(capacity: 8)
        for (key, head) in heads { try table.set(key, head) }
        #expect(table.spilled >= heads.count - 8, "most heads must have left memory")

        // Every head comes back equal, whether resident or read from the scratch file.
        for (key, head) in heads.reversed() { #expect(try table.head(key) == head, "\(key)") }
        #expect(table.reloaded > 0)
        #expect(try table.head("https://id.gs1.org/01/09506000134352/21/NEVER") == nil)

        // An update to a written-out head wins over its older copy in the file.
        let (changedKey, original) = heads[0]
        var changed = original
        changed.sequence += 1
        changed.lastIndex += 1_000
        try table.set(changedKey, changed)

        var seen: [(String, SettledHead)] = []
        try table.forEachSettled { key, head in seen.append((key, head)) }
        let expected = heads.map { $0.0 }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        #expect(seen.map(\.0) == expected, "each chain once, in bytewise key order")
        // A written-out head comes back with its state as the bytes it was written as, a resident
        // one encoded: the same either way, and the newer copy of the changed head.
        var current = Dictionary(uniqueKeysWithValues: heads)
        current[changedKey] = changed
        for (key, head) in seen {
            let replayed = try #require(current[key])
            #expect(try head == SettledHead(replayed), "\(key)")
            #expect(head.state != nil && !head.passport.isEmpty && !head.gtin.isEmpty, "\(key)")
        }
        #expect(seen.first { $0.0 == changedKey }?.1.lastIndex == changed.lastIndex)
    }

    @Test("the least recently used half is written out, and only it")
    func leastRecentlyUsedHalfLeaves() throws {
        let heads = Array(try Self.storyHeads().prefix(9))
        var table = ChainHeads(capacity: 8)
        for (key, head) in heads.prefix(8) { try table.set(key, head) }
        // The first four used again: the next four are now the least recently used.
        for (key, head) in heads.prefix(4) { #expect(try table.head(key) == head) }
        try table.set(heads[8].0, heads[8].1)
        #expect(table.spilled == 4, "nine resident heads over a limit of eight: four leave")

        for (key, head) in heads.prefix(4) + heads.suffix(1) { #expect(try table.head(key) == head) }
        #expect(table.reloaded == 0, "the recently used heads stayed in memory")
        for (key, head) in heads[4..<8] { #expect(try table.head(key) == head) }
        #expect(table.reloaded == 4, "the four least recently used came back from the scratch file")
    }

    @Test("a cut-short scratch record is an error that names the product, not a crash")
    func truncatedRecord() throws {
        let (key, head) = try #require(try Self.storyHeads().first)
        let bytes = try ChainHeads.encode(head)
        #expect(try ChainHeads.decode(bytes, key: key) == head)
        #expect(try ChainHeads.settled(bytes, key: key) == SettledHead(head))
        for length in [0, 1, 20, 26, 40, 80] {
            #expect(throws: AuditError.self) { _ = try ChainHeads.decode(Array(bytes.prefix(length)), key: key) }
            #expect(throws: AuditError.self) { _ = try ChainHeads.settled(Array(bytes.prefix(length)), key: key) }
        }
    }

    @Test("audits keeping 8 chains in memory report exactly what audits keeping all of them report")
    func boundedAuditsAgree() throws {
        let story = Shared.story
        for threads in [1, 2] {
            let full = try Shared.auditor(threads: threads).audit(store: Shared.open(story.path))
            let bounded = try Shared.auditor(threads: threads, residentChains: 8).audit(store: Shared.open(story.path))
            #expect(full.passed && bounded == full)
            let export = try Shared.auditor(threads: threads, residentChains: 8).audit(exportAt: story.exportPath)
            #expect(export.passed && export.rootHash == full.rootHash)
        }
        let trusted = story.checkpoints[story.checkpoints.count / 3]
        let incremental = try Shared.auditor(residentChains: 8).audit(store: Shared.open(story.path), since: trusted)
        let reference = try Shared.auditor().audit(store: Shared.open(story.path), since: trusted)
        #expect(incremental.passed && incremental == reference)
    }
}

/// The end of a full audit checks that each products row's GTIN and serial make the product's
/// chain key: bytewise for a key in the canonical unescaped form, by spelling the row's link
/// otherwise. Both must answer as spelling the link always does.
@Suite struct ProductRowKeyTests {
    static func row(_ gtin: String, _ serial: String) -> ProductRow {
        ProductRow(product: "", gtin: gtin, serial: serial, passport: [])
    }

    @Test("a row names its key exactly when its GTIN and serial spell that Digital Link")
    func rowNamesKey() throws {
        let cases: [(gtin: String, serial: String, key: String, names: Bool)] = [
            ("09506000134352", "S0-507", "https://id.gs1.org/01/09506000134352/21/S0-507", true),
            ("09506000134352", "S0-5079", "https://id.gs1.org/01/09506000134352/21/S0-507", false),
            ("09506000134352", "S0-50", "https://id.gs1.org/01/09506000134352/21/S0-507", false),
            ("09506000134345", "S0-507", "https://id.gs1.org/01/09506000134352/21/S0-507", false),
            // A serial with characters the link escapes: the slow path, either way.
            ("09506000134352", "A/B\"C", "https://id.gs1.org/01/09506000134352/21/A%2FB%22C", true),
            ("09506000134352", "A/B", "https://id.gs1.org/01/09506000134352/21/A%2FB%22C", false),
            // A serial the canonical reader would accept but that is not valid GS1 (a space): refused.
            ("09506000134352", "S0 507", "https://id.gs1.org/01/09506000134352/21/S0%20507", false),
            // A short GTIN spells the same link, but is not the row the commission made.
            ("9506000134352", "S0-507", "https://id.gs1.org/01/09506000134352/21/S0-507", false),
        ]
        for item in cases {
            #expect(
                AuditEngine.names(Self.row(item.gtin, item.serial), item.key) == item.names,
                "\(item.gtin) \(item.serial) against \(item.key)"
            )
            // The bytewise answer is the spelled one wherever both apply.
            if item.gtin.count == 14 {
                #expect(
                    (AuditEngine.digitalLink(of: Self.row(item.gtin, item.serial)) == item.key) == item.names,
                    "\(item.gtin) \(item.serial) spelled"
                )
            }
        }
    }
}
