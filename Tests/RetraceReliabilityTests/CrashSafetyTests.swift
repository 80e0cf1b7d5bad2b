import Foundation
import RetraceLedger
import RetraceSimulation
import RetraceStorage
import Testing

/// Issue 7 point 3: SIGKILL an appending child at random moments, reopen, and check that nothing
/// acknowledged was lost and nothing is half-written.
@Suite("Crash safety")
struct CrashSafetyTests {
    static let parties: TestParties = {
        do { return try TestParties() } catch { preconditionFailure("embedded test keys do not load: \(error)") }
    }()

    /// `RETRACE_CRASH_KILLS` asks for more (or fewer, when debugging) kills than the CI-sized 200.
    static var kills: Int {
        ProcessInfo.processInfo.environment["RETRACE_CRASH_KILLS"].flatMap { Int($0) }.map { max(1, $0) } ?? 200
    }

    @Test("200 SIGKILLs at random moments lose no acknowledged statement and leave every invariant intact")
    func killRepeatedly() throws {
        let scratch = try ScratchFolder("crash")
        defer { scratch.remove() }
        let db = scratch.ledger
        let created = try AppenderProcess.run(
            ["--db", db, "--create", "--count", "1", "--products", "24", "--prefix", "K"],
            in: scratch.url,
            name: "create"
        )
        #expect(created.status == 0, "\(created.text)")

        var checker = LedgerChecker(logKey: Self.parties.log.verifier)
        var acknowledged = Set(created.acknowledged)
        var random = SeededRandom(seed: 0x7E7_2ACE)
        var killedMidRun = 0
        for round in 0..<Self.kills {
            // Delays from 0 (killed while starting or opening, ~50 ms) to 250 ms (several batches in).
            let delay = random.next() % 251
            let batch = 1 + random.next() % 6
            let child = try AppenderProcess(
                [
                    "--db", db, "--seed", "\(round + 2)", "--count", "0", "--batch", "\(batch)", "--products", "24",
                    "--prefix", "K",
                ],
                in: scratch.url,
                name: "round"
            )
            usleep(UInt32(delay * 1_000))
            child.killHard()
            let output = try child.finish()
            if output.killed { killedMidRun += 1 }
            #expect(output.errors.isEmpty, "round \(round): \(output.errors)")
            let fresh = output.acknowledged
            acknowledged.formUnion(fresh)

            let store = try SQLiteLedgerStore.open(path: db)
            try checker.check(store, acknowledged: fresh)
        }
        #expect(killedMidRun >= Self.kills * 9 / 10, "most runs must be killed, not finish on their own")

        // After the last kill: every acknowledged id is still there, the ledger takes appends,
        // a fresh checker verifies the whole file, and the independent audit passes.
        let after = try AppenderProcess.run(
            ["--db", db, "--seed", "1", "--count", "12", "--batch", "4", "--products", "24", "--prefix", "K"],
            in: scratch.url,
            name: "after"
        )
        #expect(after.status == 0, "\(after.text)")
        #expect(after.acknowledged.count == 12)
        acknowledged.formUnion(after.acknowledged)
        let store = try SQLiteLedgerStore.open(path: db)
        var full = LedgerChecker(logKey: Self.parties.log.verifier)
        try full.check(store, acknowledged: acknowledged)
        #expect(try store.integrityCheck().isEmpty)
        let audit = try IndependentAudit.run(store, parties: Self.parties)
        #expect(audit.passed, "\(audit.failures)")
        #expect(audit.treeSize == full.verifiedSize)
        // Entries committed by a child killed before it could print their ACK: stored, never claimed.
        let unacknowledged = Int(full.verifiedSize) - 1 - acknowledged.count
        let verdict = audit.passed ? "passed" : "FAILED"
        print(
            "crash safety: \(Self.kills) kills (\(killedMidRun) mid-run), \(acknowledged.count) acknowledged "
                + "statements checked, tree size \(full.verifiedSize) (\(unacknowledged) stored but killed before "
                + "their ACK), \(full.checkpointCount) checkpoints, audit: \(verdict)"
        )
    }
}

/// SplitMix64 for the test's own choices (delays, batch sizes): a seed names the whole run.
struct SeededRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
