import Foundation
import RetraceCrypto
import RetraceEvents
import RetraceRules
import RetraceSimulation
import Testing

@testable import RetraceLedger

/// A large batch's signatures are checked beside its commit (``AuthenticationStream``): the
/// commit must get exactly the answers a check made beforehand gives, and a refused signature
/// anywhere in the batch must still refuse the batch at that statement.
@Suite("Signatures streamed beside the commit")
struct StreamedAuthenticationTests {
    static func commissions(_ count: Int, prefix: String) throws -> [SignedStatement] {
        try (0..<count).map { index in
            try LedgerFixture.parties.sign(
                .commission,
                product: try LedgerFixture.product("\(prefix)-\(index)"),
                previous: nil,
                by: "northwind",
                at: LedgerFixture.time(Int64(index % 50))
            )
        }
    }

    /// The fixture's roster in force, as the ledger authenticates against it.
    static func trust() throws -> TrustState {
        let parties = LedgerFixture.parties
        return try TrustState(trustRoots: [parties.governance.verifier])
            .applying(roster: parties.signedRoster(time: LedgerFixture.start))
    }

    static func forged(_ signed: SignedStatement) -> SignedStatement {
        var signature = signed.signature
        signature[10] ^= 0x01
        return SignedStatement(statement: signed.statement, signature: signature, members: signed.members)
    }

    @Test("a forged signature deep in a large batch refuses the batch at that statement and writes nothing")
    func forgedDeepInside() throws {
        let fixture = try LedgerFixture()
        defer { fixture.remove() }
        var batch = try Self.commissions(150, prefix: "STREAM")
        let honest = batch[137]
        batch[137] = Self.forged(honest)
        let before = try fixture.ledger.store.read { try $0.treeSize() }
        #expect {
            try fixture.ledger.append(batch)
        } throws: { error in
            let refused = error as? LedgerError
            return refused?.code == .untrusted && refused?.statementIndex == 137
        }
        #expect(try fixture.ledger.store.read { try $0.treeSize() } == before)
        batch[137] = honest
        let result = try fixture.ledger.append(batch)
        #expect(result.receipts.map(\.index) == (0..<150).map { before + UInt64($0) })
    }

    @Test("the asking thread checks what no worker reached, and every answer is the check's own")
    func askerChecksItself() throws {
        let trust = try Self.trust()
        var statements = try Self.commissions(70, prefix: "ASK")
        statements[3] = Self.forged(statements[3])
        statements[66] = Self.forged(statements[66])
        let expected = statements.map { try? trust.authenticate($0) }
        // Stopped at once: workers that have not claimed a chunk never will, so the asking thread
        // checks those chunks itself.
        let stream = AuthenticationStream(statements, trust: trust)
        stream.stop()
        for position in statements.indices.reversed() {
            #expect(stream.party(at: position) == expected[position], "statement \(position)")
        }
        #expect(expected[3] == nil && expected[66] == nil && expected[0] != nil)
    }

    @Test("a batch checked on one thread, on some or on every core gets each statement's own answer")
    func parallelChecksAgreeForEveryThreadCount() throws {
        let trust = try Self.trust()
        var statements = try Self.commissions(70, prefix: "PAR")
        for position in [0, 33, 69] { statements[position] = Self.forged(statements[position]) }
        let expected = statements.map { try? trust.authenticate($0) }
        let fixture = try LedgerFixture()
        defer { fixture.remove() }
        // 0 and more threads than cores are clamped; 1 checks on the calling thread alone.
        for threads in [0, 1, 2, 3, Parallelism.cores, Parallelism.cores + 5] {
            let found = fixture.ledger.authenticateInParallel(statements, trust: trust, threads: threads)
            #expect(found == expected, "threads \(threads)")
        }
        #expect(expected.filter { $0 == nil }.count == 3)
    }

    @Test("no worker checks anything once the stream is stopped")
    func stopWaitsForWorkers() throws {
        let trust = try Self.trust()
        let statements = try Self.commissions(320, prefix: "STOP")
        let stream = AuthenticationStream(statements, trust: trust)
        #expect(stream.party(at: 0) != nil)
        stream.stop()
        let checked = stream.checkedChunks
        usleep(100_000)
        #expect(stream.checkedChunks == checked)
    }
}
