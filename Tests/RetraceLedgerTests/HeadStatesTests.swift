import CanonicalJSON
import Foundation
import RetraceAudit
import RetraceEvents
import RetraceRules
import RetraceSimulation
import RetraceStorage
import Testing

@testable import RetraceLedger

/// The commit path keeps the states it computed and reuses one only when the head's stored bytes
/// are exactly its canonical JSON: a state another writer moved on is read from storage.
@Suite("Head states kept between commits")
struct HeadStatesTests {
    @Test("a kept state is returned only for the same bytes; the oldest generation is dropped")
    func keptByBytes() throws {
        let fixture = try LedgerFixture()
        defer { fixture.remove() }
        let product = try LedgerFixture.product("SN-HS-1")
        let commission = try fixture.parties.sign(
            .commission,
            product: product,
            previous: nil,
            by: "northwind",
            at: LedgerFixture.time(1)
        )
        try fixture.ledger.append([commission])
        let link = try #require(try fixture.ledger.store.read { try $0.head(of: product.digitalLink) })
        let state = try ProductState(json: CanonicalJSON.decode(link.state))

        let kept = HeadStates(capacity: 2)
        kept.remember("a", bytes: link.state, state: state)
        #expect(kept.state("a", bytes: link.state) == state)
        #expect(kept.state("a", bytes: link.state + [0x20]) == nil)
        #expect(kept.state("b", bytes: link.state) == nil)
        kept.remember("b", bytes: [1], state: state)
        kept.remember("c", bytes: [2], state: state)  // "a" and "b" move to the older generation
        #expect(kept.state("a", bytes: link.state) == state)  // found there, and made newer again
        kept.remember("d", bytes: [3], state: state)
        kept.remember("e", bytes: [4], state: state)  // "b" and "c" were older: gone now
        #expect(kept.state("b", bytes: [1]) == nil)
        #expect(kept.state("e", bytes: [4]) == state)
    }

    @Test("a writer whose kept state another writer has moved on judges from the stored head")
    func otherWriterMovedTheHead() throws {
        let fixture = try LedgerFixture()
        defer { fixture.remove() }
        let parties = fixture.parties
        let product = try LedgerFixture.product("SN-HS-2")
        let commission = try parties.sign(
            .commission,
            product: product,
            previous: nil,
            by: "northwind",
            at: LedgerFixture.time(1)
        )
        try fixture.ledger.append([commission])  // this writer keeps the state after the commission

        // A second writer (as another process would be) ships the product.
        let other = try Ledger.open(store: SQLiteLedgerStore.open(path: fixture.path), logSigner: parties.log)
        let ship = try parties.sign(
            .ship,
            product: product,
            previous: commission.id,
            by: "northwind",
            at: LedgerFixture.time(2)
        )
        try other.append([ship])

        // Receiving is valid only after a shipment: judged from the commission's state it would be refused.
        let receive = try parties.sign(
            .receive,
            product: product,
            previous: ship.id,
            by: "fabrikam",
            at: LedgerFixture.time(3)
        )
        let result = try fixture.ledger.append([receive])
        #expect(result.receipts.map(\.index) == [3])

        let stored = try #require(try fixture.ledger.store.read { try $0.head(of: product.digitalLink) })
        #expect(try ProductState(json: CanonicalJSON.decode(stored.state)).custodian == "fabrikam")
        let report = try Auditor(
            trustRoots: [parties.governance.verifier],
            logKey: parties.log.verifier,
            origin: TestParties.origin
        ).audit(store: fixture.ledger.store)
        #expect(report.passed, "\(report.failures.prefix(3))")
    }
}
