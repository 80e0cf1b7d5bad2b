import CanonicalJSON
import Foundation
import MerkleLog
import RetraceCrypto
import RetraceEvents
import RetraceLedger
import RetraceSimulation
import RetraceStorage
import Testing

@Suite("Ledger append path")
struct LedgerAppendTests {
    @Test("a commission and a sale are appended, chained and covered by a verifying checkpoint")
    func commissionAndSell() throws {
        let fixture = try LedgerFixture()
        defer { fixture.remove() }
        let parties = fixture.parties
        let product = try LedgerFixture.product("SN-0001")
        let commission = try parties.sign(
            .commission,
            product: product,
            previous: nil,
            by: "northwind",
            at: LedgerFixture.time(1)
        )
        let first = try fixture.ledger.append([commission])
        #expect(first.receipts.map(\.index) == [1])
        #expect(first.treeSize == 2)
        let ship = try parties.sign(
            .ship,
            product: product,
            previous: commission.id,
            by: "northwind",
            at: LedgerFixture.time(2)
        )
        let receive = try parties.sign(
            .receive,
            product: product,
            previous: ship.id,
            by: "fabrikam",
            at: LedgerFixture.time(3)
        )
        let sale = try parties.sign(
            .sell,
            product: product,
            previous: receive.id,
            by: "fabrikam",
            at: LedgerFixture.time(4),
            details: .of(["orderDigest": .string(String(repeating: "ab", count: 32))])
        )
        let second = try fixture.ledger.append([ship, receive, sale])
        #expect(second.receipts.map(\.index) == [2, 3, 4])
        #expect(second.treeSize == 5)
        let note = try #require(second.checkpoint)
        let checkpoint = try Checkpoint.open(note, verifiers: [parties.log.verifier], origin: TestParties.origin)
        #expect(checkpoint.size == 5)
        #expect(checkpoint.rootHash == second.rootHash)
    }

    @Test("a statement whose previous is not the head is refused as a chain conflict and nothing is written")
    func chainConflict() throws {
        let fixture = try LedgerFixture()
        defer { fixture.remove() }
        let parties = fixture.parties
        let product = try LedgerFixture.product("SN-0002")
        let commission = try parties.sign(
            .commission,
            product: product,
            previous: nil,
            by: "northwind",
            at: LedgerFixture.time(1)
        )
        try fixture.ledger.append([commission])
        let bogus = try Digest(bytes: [UInt8](repeating: 7, count: 32))
        let sale = try parties.sign(
            .sell,
            product: product,
            previous: bogus,
            by: "fabrikam",
            at: LedgerFixture.time(2),
            details: .of(["orderDigest": .string(String(repeating: "ab", count: 32))])
        )
        #expect(throws: LedgerError(.chainConflict, "")) { try fixture.ledger.append([sale]) }
        let size = try fixture.ledger.store.read { try $0.treeSize() }
        #expect(size == 2)
    }
}
