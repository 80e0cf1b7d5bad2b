import CanonicalJSON
import Foundation
import RetraceAudit
import RetraceEvents
import RetraceLedger
import RetraceRules
import RetraceStorage
import Testing

/// The state table and the role table enforced by the real append path, not just by
/// `Lifecycle.apply`: every refusal names its rule, writes nothing, and the ledger still audits clean.
@Suite("Lifecycle rules through the ledger")
struct LedgerRefusalTests {
    @Test(
        "every illegal phase × event and every event signed outside its roles is refused by the ledger, which stays intact"
    )
    func refusalsThroughTheLedger() throws {
        let parties = try TestParties.get()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "retrace-rules-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let ledger = try Ledger.create(
            store: SQLiteLedgerStore.create(path: directory.appendingPathComponent("ledger.sqlite").path),
            origin: "retrace.test/rules",
            logSigner: parties.log,
            governance: [parties.governance.verifier],
            roster: parties.rosterStatement,
            clock: { Timestamp(secondsSinceEpoch: 1_900_000_000) }
        )
        var refusedTransitions = 0
        var refusedRoles = 0
        for (phaseIndex, phase) in Phase.all.enumerated() {
            let chain = try ProductChain.inPhase(phase, serial: "LR-\(phaseIndex)", parties: parties)
            try ledger.append(chain.history)
            for event in EventType.productEvents where event != .commission {
                let legal = StateTableTests.expected[phase.name]?[event.name] != nil
                let overlay = StateTableTests.overlays.contains(event.name) && !phase.isTerminal
                let size = try ledger.store.read { try $0.treeSize() }
                if event == .recallRemedy || !(legal || overlay) {
                    let signed = try chain.statement(event, by: ProductChain.defaultSigner(event))
                    if let error = Self.refusal(of: signed, by: ledger) {
                        #expect(error.code == .ruleViolation, "\(event) in \(phase): \(error)")
                        #expect(error.rule?.hasPrefix("L") == true, "\(event) in \(phase): no rule named: \(error)")
                        #expect(error.product == chain.product.digitalLink)
                        refusedTransitions += 1
                    } else {
                        Issue.record("\(event) in \(phase) was appended, but the state table forbids it")
                    }
                } else {
                    // The auditor's key belongs to a party with no signing role: outside every event's roles.
                    let signed = try chain.statement(event, by: "woodgrove")
                    if let error = Self.refusal(of: signed, by: ledger) {
                        #expect(error.code == .ruleViolation || error.code == .untrusted, "\(error)")
                        #expect(error.rule != nil, "\(event) by the auditor: no rule named: \(error)")
                        refusedRoles += 1
                    } else {
                        Issue.record("\(event) in \(phase) signed by the auditor was appended")
                    }
                }
                #expect(try ledger.store.read { try $0.treeSize() } == size, "a refused \(event) wrote something")
            }
        }
        #expect(refusedTransitions > 300)
        #expect(refusedRoles > 40)
        let report = try Auditor(
            trustRoots: [parties.governance.verifier],
            logKey: parties.log.verifier,
            origin: "retrace.test/rules"
        ).audit(store: ledger.store)
        #expect(report.passed, "\(report.failures.prefix(3))")
        print(
            "through the ledger: \(refusedTransitions) illegal transitions and \(refusedRoles) wrong-role events refused"
        )
    }

    /// The ledger's refusal of `signed`, or nil if it was appended.
    static func refusal(of signed: SignedStatement, by ledger: Ledger) -> LedgerError? {
        do {
            try ledger.append([signed])
            return nil
        } catch {
            return error
        }
    }
}
