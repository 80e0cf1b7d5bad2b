import Foundation
import RetraceCrypto
import RetraceLedger
import RetraceSimulation
import RetraceStorage
import Testing

/// Ledgers made before the test log key was named after its origin record it as
/// `log.retrace.test`: they keep working, but cannot be witnessed (spec/witness.md §1).
@Suite("A ledger whose log key is not named after its origin")
struct LegacyLogKeyTests {
    @Test(
        "serve appends to it with its own log key file, audit passes, and --witness-policy is refused naming both names"
    )
    func keepsWorking() async throws {
        let setup = try WitnessNetworkTests.Setup()
        defer { try? FileManager.default.removeItem(at: setup.directory) }
        let legacy = setup.path("legacy.sqlite")
        let oldKey = try NoteSigner(name: "log.retrace.test", privateKey: setup.parties.log.privateKey)
        _ = try Ledger.create(
            store: try SQLiteLedgerStore.create(path: legacy),
            origin: TestParties.origin,
            logSigner: oldKey,
            governance: [setup.parties.governance.verifier],
            roster: setup.parties.signedRoster(time: DemoStory.start)
        )
        // The embedded test key serves only the demo's own ledger (issue 16 point 24): give the file.
        let keyFile = setup.path("legacy-log.key")
        try Data((oldKey.privateKeyText + "\n").utf8).write(to: URL(fileURLWithPath: keyFile))
        let serve = try await ChildProcess(
            ["serve", "--db", legacy, "--port", "0", "--log-level", "error", "--log-key", keyFile],
            stderr: setup.path("legacy-serve.log")
        )
        _ = try await setup.commission("LEGA0001", via: serve)
        #expect(await serve.stop() == 0)
        let audit = try await runCLI(["audit", "--db", legacy])
        #expect(audit.status == 0, "\(audit.output)")
        #expect(audit.output.contains("tree size        2"), "\(audit.output)")

        _ = try setup.writePolicy(ports: [1, 2, 3], group: "any")
        let refused = try await runCLI(
            [
                "serve", "--db", legacy, "--port", "0", "--log-key", keyFile, "--witness-policy",
                setup.path("policy.txt"),
            ])
        #expect(refused.status == 2, "\(refused.output)")
        #expect(
            refused.output.contains("log.retrace.test") && refused.output.contains(TestParties.origin),
            "\(refused.output)"
        )
    }
}
