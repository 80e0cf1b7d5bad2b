import CanonicalJSON
import Dispatch
import Foundation
import RetraceEvents
import RetraceIdentity
import RetraceLedger
import RetraceSimulation
import RetraceStorage
import Synchronization
import Testing

/// Issue 7 point 4: two processes (and threads of one process) appending to one ledger file.
@Suite("Concurrent writers")
struct ConcurrentWriterTests {
    static var parties: TestParties { CrashSafetyTests.parties }

    /// Starts two appenders at once, waits for both, and checks the file with everything they acknowledged.
    private func race(_ first: [String], _ second: [String], name: String) throws -> (AppenderOutput, AppenderOutput) {
        let scratch = try ScratchFolder(name)
        defer { scratch.remove() }
        let created = try AppenderProcess.run(
            ["--db", scratch.ledger, "--create", "--count", "1", "--prefix", "Z", "--products", "1"],
            in: scratch.url,
            name: "create"
        )
        #expect(created.status == 0, "\(created.text)")
        let a = try AppenderProcess(["--db", scratch.ledger] + first, in: scratch.url, name: "a")
        let b = try AppenderProcess(["--db", scratch.ledger] + second, in: scratch.url, name: "b")
        let (outA, outB) = (try a.finish(), try b.finish())
        #expect(outA.status == 0, "\(outA.text.suffix(400))")
        #expect(outB.status == 0, "\(outB.text.suffix(400))")
        let acknowledged = created.acknowledged + outA.acknowledged + outB.acknowledged
        #expect(Set(acknowledged).count == acknowledged.count, "an id was acknowledged twice")

        let store = try SQLiteLedgerStore.open(path: scratch.ledger)
        var checker = LedgerChecker(logKey: Self.parties.log.verifier)
        try checker.check(store, acknowledged: acknowledged)
        // Nothing stored that nobody was told about (no kill here): entries = roster + acknowledgements.
        #expect(checker.verifiedSize == UInt64(1 + acknowledged.count))
        #expect(try store.integrityCheck().isEmpty)
        // Losers of a race only ever saw retryable refusals.
        for line in outA.retries + outB.retries {
            let fields = line.split(separator: " ")
            let clean =
                fields[1] == "chainConflict"
                || (fields[1] == "ruleViolation" && line.contains("L2 commission-once"))
                || (fields[1] == "storage" && (fields[2] == "busy" || fields[2] == "conflict"))
            #expect(clean, "not a clean retryable refusal: \(line)")
        }
        return (outA, outB)
    }

    @Test("two processes on different products: every acknowledged entry stored once, chains and checkpoints agree")
    func disjointProducts() throws {
        let common = ["--count", "48", "--batch", "3", "--products", "8"]
        let (a, b) = try race(
            ["--seed", "1", "--prefix", "A"] + common,
            ["--seed", "2", "--prefix", "B"] + common,
            name: "disjoint"
        )
        #expect(a.acknowledged.count == 48 && b.acknowledged.count == 48)
    }

    @Test("two processes racing on the same chains: no fork, losers get clean chain conflicts and retry")
    func sameChains() throws {
        let common = ["--count", "48", "--batch", "2", "--products", "3", "--prefix", "S", "--retries", "400"]
        let (a, b) = try race(["--seed", "1"] + common, ["--seed", "2"] + common, name: "same")
        #expect(a.acknowledged.count == 48 && b.acknowledged.count == 48)
        print("same-chain race: \(a.retries.count + b.retries.count) lost races retried cleanly")
    }

    @Test("four threads appending through one Ledger to shared chains: no fork, nothing lost or doubled")
    func threadsInOneProcess() throws {
        let scratch = try ScratchFolder("threads")
        defer { scratch.remove() }
        let parties = Self.parties
        let ledger = try Ledger.create(
            store: SQLiteLedgerStore.create(path: scratch.ledger),
            origin: TestParties.origin,
            logSigner: parties.log,
            governance: [parties.governance.verifier],
            roster: parties.signedRoster(time: Self.now())
        )
        let acknowledged = Mutex<[String]>([])
        let refusals = Mutex<[String]>([])
        let products = try (0..<3).map { try SGTIN(gtin: GTIN("09506000134352"), serial: Serial("T\($0)")) }
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            var done = 0
            var attempts = 0
            while done < 12, attempts < 400 {
                attempts += 1
                do {
                    let item = products[(worker + done) % products.count]
                    let statement = try Self.next(for: item, ledger: ledger, worker: worker)
                    let result = try ledger.append([statement])
                    acknowledged.withLock { $0 += result.receipts.map(\.eventID.hex) }
                    done += 1
                } catch let error as LedgerError {
                    let clean =
                        error.code == .chainConflict || error.rule == "L2 commission-once"
                        || error.storage?.code == .busy || error.storage?.code == .conflict
                    refusals.withLock { $0.append(clean ? "clean" : "\(error.code): \(error)") }
                } catch {
                    refusals.withLock { $0.append("other: \(error)") }
                }
            }
        }
        let ids = acknowledged.withLock { $0 }
        let unclean = refusals.withLock { $0.filter { $0 != "clean" } }
        #expect(unclean.isEmpty, "\(unclean.prefix(3))")
        #expect(ids.count == 48)
        #expect(Set(ids).count == ids.count)
        var checker = LedgerChecker(logKey: parties.log.verifier)
        try checker.check(ledger.store, acknowledged: ids)
        #expect(checker.verifiedSize == UInt64(1 + ids.count))
    }

    static func now() -> Timestamp { Timestamp(secondsSinceEpoch: Int64(Date().timeIntervalSince1970)) }

    /// The next step of `item`'s chain as the appender makes it; the worker's sites and tag make two
    /// workers' statements differ, so a lost race is a chain conflict, not a duplicate.
    static func next(for item: SGTIN, ledger: Ledger, worker: Int) throws -> SignedStatement {
        let head = try ledger.store.read { try $0.head(of: item.digitalLink) }
        return try RacingStep.next(for: item, head: head, racer: worker, tag: "W\(worker)", at: now(), parties: parties)
    }
}
