import CanonicalJSON
import Foundation
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceLedger
import RetraceSimulation
import RetraceStorage

/// A fresh ledger in a temporary directory, created with the test parties' first roster.
struct LedgerFixture {
    static let parties: TestParties = {
        do { return try TestParties() } catch { preconditionFailure("embedded test keys do not load: \(error)") }
    }()

    let directory: URL
    let path: String
    let ledger: Ledger
    var parties: TestParties { Self.parties }

    /// Fixed start of every story, so ids are reproducible; the log's clock follows it.
    static let start = try! Timestamp(parsing: "2026-03-02T09:00:00Z")

    init(clock: @escaping @Sendable () -> Timestamp = { Timestamp(secondsSinceEpoch: 1_900_000_000) }) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("retrace-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        path = directory.appendingPathComponent("ledger.sqlite").path
        let store = try SQLiteLedgerStore.create(path: path)
        ledger = try Ledger.create(
            store: store,
            origin: TestParties.origin,
            logSigner: Self.parties.log,
            governance: [Self.parties.governance.verifier],
            roster: Self.parties.signedRoster(time: Self.start),
            clock: clock
        )
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }

    static func product(_ serial: String, gtin: String = "09506000134352") throws -> SGTIN {
        try SGTIN(gtin: GTIN(gtin), serial: Serial(serial))
    }

    static func time(_ minutes: Int64) -> Timestamp { start.adding(seconds: 60 * minutes) }
}

extension JSONObject {
    static func of(_ members: [String: JSONValue]) -> JSONObject { JSONObject(members) }
}
