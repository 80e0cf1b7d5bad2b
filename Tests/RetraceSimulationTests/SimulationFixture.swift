import CanonicalJSON
import Foundation
import RetraceEvents
import RetraceIdentity
import RetraceLedger
import RetraceRules
import RetraceSimulation
import RetraceStorage

/// A fresh SQLite ledger in a temporary directory, created with the test parties' first roster.
struct SimulationFixture {
    static let parties: TestParties = {
        do { return try TestParties() } catch { preconditionFailure("embedded test keys do not load: \(error)") }
    }()

    /// Fixed start of the flow stories, so ids are reproducible; the log's clock is later than all of them.
    static let start = Timestamp(secondsSinceEpoch: 1_772_442_000)  // 2026-03-02T09:00:00Z

    let directory: URL
    let ledger: Ledger
    var parties: TestParties { Self.parties }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("retrace-sim-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = try SQLiteLedgerStore.create(path: directory.appendingPathComponent("ledger.sqlite").path)
        ledger = try Ledger.create(
            store: store,
            origin: TestParties.origin,
            logSigner: Self.parties.log,
            governance: [Self.parties.governance.verifier],
            roster: Self.parties.signedRoster(time: Timestamp(secondsSinceEpoch: 1_704_067_200)),
            clock: { Timestamp(secondsSinceEpoch: 1_900_000_000) }
        )
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }

    var treeSize: UInt64 { (try? ledger.store.read { try $0.treeSize() }) ?? 0 }

    /// The product's state at its chain head, read back from the store.
    func state(of product: SGTIN) throws -> ProductState? {
        guard let link = try ledger.store.read({ try $0.head(of: product.digitalLink) }) else { return nil }
        return try ProductState(json: CanonicalJSON.decode(link.state))
    }

    static func time(hours: Double) -> Timestamp { start.adding(seconds: Int64(hours * 3_600)) }

    static func digest(_ label: String) -> JSONValue { .string(Digest.of(Array(label.utf8)).hex) }
}
