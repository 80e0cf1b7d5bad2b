import CanonicalJSON
import Foundation
import MerkleLog
import RetraceCrypto
import RetraceEvents
import RetraceLedger
import RetraceRules
import RetraceSimulation
import RetraceStorage
import Testing
import VerifiableMap

/// `Ledger.append(groups:)`: several clients' batches in one transaction, each all-or-nothing.
@Suite("Group commit")
struct GroupCommitTests {
    @Test("a refused group leaves no trace; the others land in one transaction under one checkpoint")
    func refusedGroupIsolated() throws {
        let fixture = try LedgerFixture()
        defer { fixture.remove() }
        let parties = fixture.parties
        let a = try LedgerFixture.product("GC-A")
        let b = try LedgerFixture.product("GC-B")
        let c = try LedgerFixture.product("GC-C")
        let commissionA = try parties.sign(
            .commission,
            product: a,
            previous: nil,
            by: "northwind",
            at: LedgerFixture.time(1)
        )
        let shipA = try parties.sign(
            .ship,
            product: a,
            previous: commissionA.id,
            by: "northwind",
            at: LedgerFixture.time(2)
        )
        let commissionB = try parties.sign(
            .commission,
            product: b,
            previous: nil,
            by: "northwind",
            at: LedgerFixture.time(1)
        )
        // A retailer cannot commission: the whole second group (a good commission of C, then this) is refused.
        let commissionC = try parties.sign(
            .commission,
            product: c,
            previous: nil,
            by: "northwind",
            at: LedgerFixture.time(1)
        )
        let forgedCommission = try parties.sign(
            .commission,
            product: try LedgerFixture.product("GC-D"),
            previous: nil,
            by: "fabrikam",
            at: LedgerFixture.time(1)
        )
        let checkpointsBefore = try fixture.ledger.store.read { try $0.checkpoints().count }

        let outcomes = fixture.ledger.append(groups: [
            [commissionA, shipA], [commissionC, forgedCommission], [commissionB],
        ])

        #expect(outcomes.count == 3)
        let first = try outcomes[0].get()
        let third = try outcomes[2].get()
        #expect(first.receipts.map(\.index) == [1, 2])
        #expect(third.receipts.map(\.index) == [3])
        guard case .failure(let refusal) = outcomes[1] else {
            Issue.record("the group with a retailer's commission was accepted")
            return
        }
        #expect(refusal.code == .ruleViolation)
        #expect(refusal.statementIndex == 1)
        // Everything of the refused group was rolled back, including its valid first statement.
        let store = fixture.ledger.store
        #expect(try store.read { try $0.entryIndex(eventID: commissionC.id.bytes) } == nil)
        #expect(try store.read { try $0.head(of: c.digitalLink) } == nil)
        #expect(try store.read { try $0.treeSize() } == 4)
        // One checkpoint for the whole transaction, covering both accepted groups.
        #expect(try store.read { try $0.checkpoints().count } == checkpointsBefore + 1)
        let note = try #require(third.checkpoint)
        #expect(first.checkpoint == note)
        let checkpoint = try Checkpoint.open(note, verifiers: [parties.log.verifier], origin: TestParties.origin)
        #expect(checkpoint.size == 4)
        #expect(checkpoint.rootHash == third.rootHash)
        // The heads root committed with the entries is the map of exactly the accepted groups:
        // the refused group's heads (C) went with its savepoint. Replayed from the log alone:
        var map = HeadsMap()
        try store.read { reader in try reader.forEachEntry(from: 0, to: 4) { try HeadsIndex.apply($0, to: &map) } }
        #expect(checkpoint.headsRoot == map.root && third.headsRoot == map.root)
        #expect(map.value(MapKey.product(c.digitalLink)) == nil)
        #expect(map.value(MapKey.product(a.digitalLink))?.count == 2)
    }

    @Test("a later group sees an earlier group's head; a replay across groups is a duplicate")
    func groupsAreOrdered() throws {
        let fixture = try LedgerFixture()
        defer { fixture.remove() }
        let parties = fixture.parties
        let a = try LedgerFixture.product("GC-E")
        let commission = try parties.sign(
            .commission,
            product: a,
            previous: nil,
            by: "northwind",
            at: LedgerFixture.time(1)
        )
        let ship = try parties.sign(
            .ship,
            product: a,
            previous: commission.id,
            by: "northwind",
            at: LedgerFixture.time(2)
        )
        let outcomes = fixture.ledger.append(groups: [[commission], [ship], [commission]])
        #expect((try? outcomes[0].get()) != nil)
        #expect((try? outcomes[1].get()) != nil)
        guard case .failure(let replay) = outcomes[2] else {
            Issue.record("a replayed statement was accepted")
            return
        }
        #expect(replay.code == .duplicate)
        #expect(try fixture.ledger.store.read { try $0.treeSize() } == 3)
    }

    @Test("a lone group refused at its last statement leaves nothing of the ones before it, and the next append lands")
    func loneGroupRefusedWhole() throws {
        // A transaction of one group is staged without a savepoint: its refusal must roll back
        // the whole transaction, rows of the statements staged before the refused one included.
        let fixture = try LedgerFixture()
        defer { fixture.remove() }
        let before = try fixture.ledger.store.read { reader in try (reader.treeSize(), reader.latestCheckpoint()) }
        let a = try LedgerFixture.product("GC-L1")
        let b = try LedgerFixture.product("GC-L2")
        let commissionA = try Self.northwindCommission("GC-L1")
        let commissionB = try Self.northwindCommission("GC-L2")
        // Names another product's event as its previous: refused at statement 2, after two were staged.
        let stray = try fixture.parties.sign(
            .ship,
            product: a,
            previous: commissionB.id,
            by: "northwind",
            at: LedgerFixture.time(11)
        )
        let outcomes = fixture.ledger.append(prepared: [fixture.ledger.prepare([commissionA, commissionB, stray])])
        guard outcomes.count == 1, case .failure(let refusal) = outcomes[0] else {
            Issue.record("a group with a broken chain was accepted: \(outcomes)")
            return
        }
        #expect(refusal.code == .chainConflict)
        #expect(refusal.statementIndex == 2)
        let after = try fixture.ledger.store.read { reader in
            (
                size: try reader.treeSize(),
                checkpoint: try reader.latestCheckpoint(),
                logged: try [commissionA, commissionB].compactMap { try reader.entryIndex(eventID: $0.id.bytes) },
                heads: try [a, b].compactMap { try reader.head(of: $0.digitalLink) }
            )
        }
        #expect(after.size == before.0)
        #expect(after.checkpoint == before.1)
        #expect(after.logged.isEmpty)
        #expect(after.heads.isEmpty)
        let landed = fixture.ledger.append(prepared: [fixture.ledger.prepare([commissionA, commissionB])])
        #expect(try landed[0].get().receipts.map(\.index) == [before.0, before.0 + 1])
    }

    @Test("a batch prepared before a revocation is authenticated afresh at commit and refused")
    func preparedBeforeRevocation() throws {
        let fixture = try LedgerFixture()
        defer { fixture.remove() }
        let commission = try Self.northwindCommission("GC-R")
        let prepared = fixture.ledger.prepare([commission])
        try fixture.ledger.append([try Self.revokingNorthwind(after: fixture.ledger)])

        try Self.expectRevokedRefusal(fixture.ledger.append(prepared: [prepared])[0], of: commission, in: fixture)
    }

    @Test("a batch prepared on the roster this writer last saw, after another writer revoked the key, is refused")
    func preparedOnStaleRoster() throws {
        let fixture = try LedgerFixture()
        defer { fixture.remove() }
        // The first writer has committed, so it holds the roster in force then without reading it again.
        try fixture.ledger.append([try Self.northwindCommission("GC-S0")])
        let other = try Ledger.open(
            store: try SQLiteLedgerStore.open(path: fixture.path),
            logSigner: fixture.parties.log
        )
        try other.append([try Self.revokingNorthwind(after: other)])

        let commission = try Self.northwindCommission("GC-S")
        let prepared = fixture.ledger.prepare([commission])
        try Self.expectRevokedRefusal(fixture.ledger.append(prepared: [prepared])[0], of: commission, in: fixture)
    }

    @Test("a group after a roster group of the same transaction is authenticated under the new roster")
    func rosterGroupThenStaleGroup() throws {
        let fixture = try LedgerFixture()
        defer { fixture.remove() }
        let revocation = try Self.revokingNorthwind(after: fixture.ledger)
        let commission = try Self.northwindCommission("GC-T")
        let outcomes = fixture.ledger.append(prepared: [
            fixture.ledger.prepare([revocation]), fixture.ledger.prepare([commission]),
        ])
        #expect((try? outcomes[0].get()) != nil)
        try Self.expectRevokedRefusal(outcomes[1], of: commission, in: fixture)
        #expect(try fixture.ledger.store.read { try $0.treeSize() } == 2)
    }

    private static func northwindCommission(_ serial: String) throws -> SignedStatement {
        try LedgerFixture.parties.sign(
            .commission,
            product: try LedgerFixture.product(serial),
            previous: nil,
            by: "northwind",
            at: LedgerFixture.time(10)
        )
    }

    /// A roster revoking Northwind's key from before the statements' time, following `ledger`'s roster head.
    private static func revokingNorthwind(after ledger: Ledger) throws -> SignedStatement {
        let parties = LedgerFixture.parties
        let northwind = try parties.signer("northwind")
        let document = try RosterDocument(
            governance: parties.roster.governance,
            parties: parties.roster.parties,
            revocations: [Revocation(key: northwind.verifier, time: LedgerFixture.time(5), reason: .keyCompromise)]
        )
        let head = try #require(try ledger.store.read { try $0.head(of: Ledger.rosterChain) })
        return try parties.signedRoster(
            time: LedgerFixture.time(2),
            previous: try Digest(bytes: head.eventID),
            document: document
        )
    }

    private static func expectRevokedRefusal(
        _ outcome: Result<Ledger.AppendResult, LedgerError>,
        of commission: SignedStatement,
        in fixture: LedgerFixture
    ) throws {
        guard case .failure(let refusal) = outcome else {
            Issue.record("a statement signed with a revoked key was accepted on its stale preparation")
            return
        }
        #expect(refusal.code == .untrusted)
        #expect(refusal.rule == "T8 key-revocation")
        #expect(try fixture.ledger.store.read { try $0.entryIndex(eventID: commission.id.bytes) } == nil)
    }
}
