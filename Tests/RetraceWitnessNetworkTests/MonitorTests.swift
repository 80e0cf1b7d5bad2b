import CanonicalJSON
import Foundation
import MerkleLog
import RetraceCrypto
import RetraceLedger
import RetraceSimulation
import RetraceStorage
import Testing

/// `retrace monitor` run as a separate process against a served log and against ledger files.
@Suite("retrace monitor", .serialized)
struct MonitorTests {
    static func lines(_ output: String) throws -> [JSONValue] {
        try output.split(separator: "\n").map { try CanonicalJSON.decode(Array($0.utf8)) }
    }

    @Test(
        "Over HTTP: the first pass verifies the whole log; the next reports only the new commission, matched by prefix, product and key"
    )
    func followsServer() async throws {
        let setup = try WitnessNetworkTests.Setup()
        defer { try? FileManager.default.removeItem(at: setup.directory) }
        let serve = try await setup.startServe(witnessed: false)
        let brand = try setup.parties.signer("northwind").verifier
        try setup.write("northwind.pub", brand.description + "\n")
        let contoso = try setup.parties.signer("contoso").verifier
        try setup.write("contoso.pub", contoso.description + "\n")
        let monitor = [
            "monitor", "--url", "http://127.0.0.1:\(serve.port)", "--state", setup.path("monitor.json"), "--log-key",
            setup.path("log.pub"), "--watch-prefix", "9506000", "--watch-key", setup.path("northwind.pub"),
            "--watch-key", setup.path("contoso.pub"),
        ]
        let first = try await runCLI(monitor)
        #expect(first.status == 0, "\(first.output)")
        let firstLines = try Self.lines(first.output)
        #expect(firstLines.map { $0["kind"]?.stringValue } == ["checkpoint"])
        #expect(firstLines.last?["treeSize"]?.integerValue == 1)

        let product = try await setup.commission("MONI0001", via: serve)
        let second = try await runCLI(monitor + ["--watch-product", product.digitalLink])
        #expect(second.status == 0, "\(second.output)")
        let events = try Self.lines(second.output)
        #expect(events.count == 2)
        let event = events[0]
        #expect(event["kind"]?.stringValue == "event")
        #expect(event["index"]?.integerValue == 1)
        #expect(event["type"]?.stringValue == "commission")
        #expect(event["product"]?.stringValue == product.digitalLink)
        #expect(
            event["matched"]?.arrayValue?.compactMap(\.stringValue)
                == ["key:\(brand.name)", "prefix:9506000", "product:\(product.digitalLink)"]
        )
        #expect(event["signatureValid"] == .bool(true))
        #expect(events[1]["kind"]?.stringValue == "checkpoint")
        #expect(events[1]["newEntries"]?.integerValue == 1)

        // Nothing new: no line at all, state unchanged.
        let third = try await runCLI(monitor)
        #expect(third.status == 0)
        #expect(try Self.lines(third.output).isEmpty)
        #expect(await serve.stop() == 0)
    }

    @Test(
        "A log that shrinks is reported as a rollback, one that shows another tree of the same size as inconsistent (exit 1, state kept)"
    )
    func rollbackAndSplitView() async throws {
        let setup = try WitnessNetworkTests.Setup()
        defer { try? FileManager.default.removeItem(at: setup.directory) }
        let serve = try await setup.startServe(witnessed: false)
        _ = try await setup.commission("MONI0002", via: serve)
        _ = try await setup.commission("MONI0003", via: serve)
        #expect(await serve.stop() == 0)
        func monitor(_ db: String) -> [String] {
            ["monitor", "--db", db, "--state", setup.path("monitor.json"), "--log-key", setup.path("log.pub")]
        }
        let first = try await runCLI(monitor(setup.db))
        #expect(first.status == 0, "\(first.output)")
        let saved = try Data(contentsOf: URL(fileURLWithPath: setup.path("monitor.json")))

        // The same log key signs a different, shorter history (the operator rolled back).
        let other = setup.path("other.sqlite")
        let ledger = try Ledger.create(
            store: try SQLiteLedgerStore.create(path: other),
            origin: TestParties.origin,
            logSigner: setup.logSigner,
            governance: [setup.parties.governance.verifier],
            roster: setup.parties.signedRoster(time: DemoStory.start)
        )
        let rollback = try await runCLI(monitor(other))
        #expect(rollback.status == 1, "\(rollback.output)")
        #expect(try Self.lines(rollback.output).last?["kind"]?.stringValue == "rollback")
        #expect(try Data(contentsOf: URL(fileURLWithPath: setup.path("monitor.json"))) == saved)

        // … then grows it to the monitored size with other entries: a split view.
        let model = SimulatedModel.phoneX
        for serial in ["FORK0001", "FORK0002"] {
            let signed = try setup.parties.sign(
                .commission,
                product: try model.product(serial: serial),
                previous: nil,
                by: model.brand,
                at: DemoStory.start.adding(seconds: 86_400),
                details: [
                    "massGrams": .integer(model.massGrams),
                    "materials": .object(JSONObject(model.materials.mapValues { JSONValue.integer($0) })),
                ]
            )
            _ = try ledger.append([signed])
        }
        let split = try await runCLI(monitor(other))
        #expect(split.status == 1, "\(split.output)")
        #expect(try Self.lines(split.output).last?["kind"]?.stringValue == "inconsistent")
        #expect(try Data(contentsOf: URL(fileURLWithPath: setup.path("monitor.json"))) == saved)
    }
}
