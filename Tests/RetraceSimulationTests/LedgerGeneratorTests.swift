import Foundation
import RetraceEvents
import RetraceLedger
import RetraceSimulation
import Testing

@Suite("The ledger generator")
struct LedgerGeneratorTests {
    @Test("the same seed gives the same statement ids; another seed gives others")
    func deterministic() throws {
        let config = LedgerGenerator.Configuration(
            products: 120,
            seed: 42,
            fraudShare: 0.1,
            batchSize: 50,
            cohortSize: 40
        )
        let first = try LedgerGenerator(configuration: config, parties: SimulationFixture.parties).collect().map(\.id)
        let again = try LedgerGenerator(configuration: config, parties: SimulationFixture.parties).collect().map(\.id)
        var other = config
        other.seed = 43
        let third = try LedgerGenerator(configuration: other, parties: SimulationFixture.parties).collect().map(\.id)
        #expect(first == again)
        #expect(first != third)
        #expect(first.count > 120 * 5)
    }

    @Test("2,000 generated events, frauds included, are all accepted by the ledger in batches")
    func fullyAccepted() throws {
        let fixture = try SimulationFixture()
        defer { fixture.remove() }
        var config = LedgerGenerator.Configuration.forEvents(2_000, seed: 7)
        config.batchSize = 250
        config.cohortSize = 100
        config.fraudShare = 0.05
        config.returnRate = 0.3
        let generator = LedgerGenerator(configuration: config, parties: fixture.parties)
        let started = Date()
        var generated: [[SignedStatement]] = []
        let summary = try generator.run { generated.append($0) }
        let signedAt = Date()
        for batch in generated { try fixture.ledger.append(batch) }
        let appendedAt = Date()
        #expect(summary.events == 2_000)
        #expect(fixture.treeSize == 2_001)
        #expect(generated.allSatisfy { $0.count <= 250 })
        #expect(summary.eventsByType["return-authorize", default: 0] > 0)
        #expect(summary.eventsByType["recycle", default: 0] > 0)
        #expect(!summary.probes.isEmpty)
        for probe in summary.probes
        where probe.expectedVerdict != "unknown-serial"
            && probe.expectedVerdict != "product-mismatch"
        {
            #expect(try fixture.state(of: probe.product) != nil)
        }
        let generate = signedAt.timeIntervalSince(started)
        let append = appendedAt.timeIntervalSince(signedAt)
        print(
            "generator: \(summary.events) events (\(summary.products) products, \(summary.probes.count) fraud probes) "
                + "generated and signed in \(String(format: "%.2f", generate)) s "
                + "(\(Int(Double(summary.events) / generate)) events/s), "
                + "appended in \(String(format: "%.2f", append)) s "
                + "(\(Int(Double(summary.events) / append)) events/s)"
        )
    }

    @Test("with every product a fraud, every fraud pattern is planted and the ledger accepts them all")
    func everyFraudPattern() throws {
        let fixture = try SimulationFixture()
        defer { fixture.remove() }
        let config = LedgerGenerator.Configuration(
            products: 140,
            seed: 11,
            fraudShare: 1,
            batchSize: 400,
            cohortSize: 64,
            serialTag: "F"
        )
        let summary = try LedgerGenerator(configuration: config, parties: fixture.parties).run {
            try fixture.ledger.append($0)
        }
        #expect(fixture.treeSize == UInt64(summary.events) + 1)
        let verdicts = Set(summary.probes.map(\.expectedVerdict))
        #expect(
            verdicts == [
                "unknown-serial", "never-sold", "reported-stolen", "already-returned", "end-of-life",
                "product-mismatch", "outside-return-window",
            ]
        )
        #expect(summary.probes.count == 140)
    }
}
