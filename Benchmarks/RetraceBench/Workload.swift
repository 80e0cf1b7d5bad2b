import CanonicalJSON
import Dispatch
import Foundation
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceLedger
import RetraceSimulation
import RetraceStorage
import Synchronization

/// Ledgers and statements for the benchmarks, made outside the timed sections.
enum Workload {
    static let parties: TestParties = {
        do { return try TestParties() } catch { preconditionFailure("the embedded test keys do not load: \(error)") }
    }()
    static let start = Timestamp(secondsSinceEpoch: 1_772_442_000)  // 2026-03-02T09:00:00Z

    static func temporaryLedger(_ name: String) throws -> (Ledger, String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "retrace-bench-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("\(name).sqlite").path
        let ledger = try Ledger.create(
            store: SQLiteLedgerStore.create(path: path),
            origin: TestParties.origin,
            logSigner: parties.log,
            governance: [parties.governance.verifier],
            roster: parties.signedRoster(time: start)
        )
        return (ledger, path)
    }

    static func remove(_ path: String) {
        try? FileManager.default.removeItem(at: URL(fileURLWithPath: path).deletingLastPathComponent())
    }

    /// `count` commissions of distinct products, signed on all cores. Each is a complete, valid
    /// statement that the append path must fully check (signature, roster, chain, lifecycle).
    static func commissions(_ count: Int, serialPrefix: String) throws -> [SignedStatement] {
        let results = Mutex([SignedStatement?](repeating: nil, count: count))
        let failure = Mutex<(any Error)?>(nil)
        let workers = ProcessInfo.processInfo.activeProcessorCount
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            var local: [(Int, SignedStatement)] = []
            for index in stride(from: worker, to: count, by: workers) {
                do {
                    let product = try SGTIN(gtin: GTIN("09506000134352"), serial: Serial("\(serialPrefix)\(index)"))
                    let statement = try parties.sign(
                        .commission,
                        product: product,
                        previous: nil,
                        by: "northwind",
                        at: start.adding(seconds: Int64(index % 3600)),
                        details: JSONObject([("massGrams", .integer(180))])
                    )
                    local.append((index, statement))
                } catch {
                    failure.withLock { $0 = error }
                    return
                }
            }
            results.withLock { all in for (index, statement) in local { all[index] = statement } }
        }
        if let error = failure.withLock({ $0 }) { throw error }
        return results.withLock { $0.compactMap { $0 } }
    }
}
