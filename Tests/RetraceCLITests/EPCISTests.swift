import CanonicalJSON
import Foundation
import RetraceEvents
import RetraceIdentity
import RetraceSimulation
import Testing

/// GS1's EPCIS 2.0 JSON schema, run by Python's `jsonschema` in a child process (with the `uri`
/// format really checked: see EPCIS/validate.py). Under CI a missing validator fails the tests.
enum SchemaValidator {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("EPCIS")
    static let schema = folder.appendingPathComponent("gs1/EPCIS-JSON-Schema.json").path
    static let underCI = ProcessInfo.processInfo.environment["CI"].map { !$0.isEmpty && $0 != "0" } ?? false

    /// True when python3 with jsonschema runs here.
    static let available: Bool = (try? run([]))?.code == 0

    /// (exit code, output): 0 all valid, 1 one is invalid, 3 the validator is missing.
    static func run(_ files: [String]) throws -> (code: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", folder.appendingPathComponent("validate.py").path, schema] + files
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static func gs1(_ name: String) -> String { folder.appendingPathComponent("gs1/\(name)").path }
    static let examples = [
        "Example_9.6.1-ObjectEvent.jsonld", "Example_9.6.1-ObjectEventWithDigitalLink.jsonld",
        "Example_9.6.3-AggregationEvent.jsonld", "object_event_all_possible_fields.jsonld", "EPCISQueryDocument.jsonld",
    ]
}

@Suite("EPCIS 2.0 export and import", .enabled(if: SchemaValidator.available || SchemaValidator.underCI))
struct EPCISTests {
    static func document(_ work: Workspace, _ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: work.path(name)))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func events(_ document: [String: Any]) -> [[String: Any]] {
        ((document["epcisBody"] as? [String: Any])?["eventList"] as? [[String: Any]]) ?? []
    }

    @Test(
        "the validator is real: GS1's examples pass it, a document with a made-up bizStep or without a time zone fails"
    )
    func validatorIsReal() throws {
        #expect(SchemaValidator.available, "python3 with jsonschema is needed (pip install jsonschema)")
        let good = try SchemaValidator.run(SchemaValidator.examples.map(SchemaValidator.gs1))
        #expect(good.code == 0, "\(good.output)")
        #expect(good.output.components(separatedBy: "\nok ").count == SchemaValidator.examples.count, "\(good.output)")

        let work = try Workspace()
        defer { work.remove() }
        let original = try Data(contentsOf: URL(fileURLWithPath: SchemaValidator.gs1(SchemaValidator.examples[1])))
        let text = String(decoding: original, as: UTF8.self)
        // CBV has no "returning" step: a return is receiving + returned.
        try work.write("step.json", Array(text.replacingOccurrences(of: "\"shipping\"", with: "\"returning\"").utf8))
        try work.write(
            "zone.json",
            Array(text.replacingOccurrences(of: "\"eventTimeZoneOffset\"", with: "\"tz\"").utf8)
        )
        try work.write("uri.json", Array(text.replacingOccurrences(of: "urn:epc:id:sgln:", with: "not a uri ").utf8))
        for name in ["step.json", "zone.json", "uri.json"] {
            let bad = try SchemaValidator.run([work.path(name)])
            #expect(bad.code == 1 && bad.output.hasPrefix("invalid "), "\(name): \(bad.output)")
        }
    }

    @Test("the demo ledger exports as an EPCIS 2.0 document that GS1's schema accepts, one ObjectEvent per event")
    func demoExportValidates() throws {
        let work = try Workspace()
        defer { work.remove() }
        _ = try VerificationCLITests.demo(work)
        let result = try work.run([
            "export", "--format", "epcis", "--db", "retrace-demo.sqlite", "--out", "demo.jsonld", "--json",
        ])
        #expect(result.code == 0, "\(result.stderr)")
        let summary = try #require(result.json)
        let checked = try SchemaValidator.run([work.path("demo.jsonld")])
        #expect(checked.code == 0, "\(checked.output)")

        let document = try Self.document(work, "demo.jsonld")
        let events = Self.events(document)
        #expect(document["schemaVersion"] as? String == "2.0")
        // Every entry but the roster (entry 0) and the brand owners' seven product-class statements
        // at the end (master data, not EPCIS events: epcis.md §1) is an event.
        #expect(Int64(events.count) == summary.integer("events"))
        #expect(Int64(events.count) == (summary.integer("treeSize") ?? 0) - 1 - 7)
        #expect(events.allSatisfy { $0["type"] as? String == "ObjectEvent" })
        let indices = events.compactMap { $0["retrace:logIndex"] as? Int }
        #expect(indices == Array(1...(indices.count)), "every event, in log order")

        // The first return of the cloned phone (README: "returned at index 247"), at Litware's dock.
        let returned = try #require(events.first { $0["retrace:logIndex"] as? Int == 247 })
        #expect(returned["retrace:eventType"] as? String == "return-receive")
        #expect(returned["bizStep"] as? String == "receiving")
        #expect(returned["disposition"] as? String == "returned")
        #expect(returned["epcList"] as? [String] == ["https://id.gs1.org/01/09506000134352/21/NWX26A1296"])
        #expect((returned["readPoint"] as? [String: String])?["id"]?.hasPrefix("urn:epc:id:sgln:9520003.") == true)
        let transactions = returned["bizTransactionList"] as? [[String: String]] ?? []
        #expect(
            transactions.contains {
                $0["type"] == "rma" && $0["bizTransaction"]?.hasPrefix("urn:retrace:bt:rma:") == true
            }
        )
        let statementID = try #require(returned["retrace:statementId"] as? String)
        #expect(statementID.count == 64)
        // The eventID names the same statement (RFC 6920 ni URI of its SHA-256).
        let eventID = try #require(returned["eventID"] as? String)
        #expect(eventID.hasPrefix("ni:///sha-256;"))

        // A recycling pallet is one event listing every member; the object ceases to exist.
        let recycled = events.filter { $0["retrace:eventType"] as? String == "recycle" }
        #expect(!recycled.isEmpty)
        #expect(
            recycled.allSatisfy { $0["action"] as? String == "DELETE" && $0["disposition"] as? String == "destroyed" }
        )
        #expect(recycled.contains { ($0["epcList"] as? [String])?.count ?? 0 > 1 })
        // Sales carry only the salted order digest, as a purchase-order transaction.
        let sale = try #require(events.first { $0["retrace:eventType"] as? String == "sell" })
        let order = (sale["bizTransactionList"] as? [[String: String]])?.first { $0["type"] == "po" }
        #expect(
            order?["bizTransaction"]?.range(of: "^urn:retrace:bt:order:[0-9a-f]{64}$", options: .regularExpression)
                != nil
        )
        #expect(sale["bizLocation"] == nil, "a sold item leaves the shop")
    }

    @Test("export then import into a fresh ledger gives the same signed statements; importing twice is refused")
    func roundTrip() throws {
        let work = try Workspace()
        defer { work.remove() }
        try work.initLedger("a.sqlite")
        try work.initLedger("b.sqlite")
        let product = "(01)09506000134352(21)EPC001"
        for (type, time, extra) in [
            ("commission", "2026-03-02T10:00:00Z", ["--detail", "lot=L1", "--location", "9506000000015"]),
            ("ship", "2026-03-02T11:00:00Z", ["--detail", "shipment=SH-1", "--detail", "consignee=alpine"]),
        ] {
            let result = try work.run(
                [
                    "record", type, "--db", "a.sqlite", "--key", "keys/northwind.key", "--product", product, "--time",
                    time,
                    "--log-key", "keys/log.key",
                ] + extra
            )
            #expect(result.code == 0, "\(result.stderr)")
        }
        #expect(try work.run(["export", "--format", "epcis", "--db", "a.sqlite", "--out", "a.jsonld"]).code == 0)
        let imported = try work.run([
            "record", "--from-epcis", "a.jsonld", "--db", "b.sqlite", "--key", "keys/northwind.key", "--log-key",
            "keys/log.key",
        ])
        #expect(imported.code == 0, "\(imported.stderr)")
        #expect(try work.run(["export", "--format", "epcis", "--db", "b.sqlite", "--out", "b.jsonld"]).code == 0)
        let ids = { (name: String) throws -> [String] in
            Self.events(try Self.document(work, name)).compactMap { $0["retrace:statementId"] as? String }
        }
        #expect(try ids("a.jsonld").count == 2)
        #expect(try ids("a.jsonld") == ids("b.jsonld"), "byte-identical statements, so identical ids")
        let checked = try SchemaValidator.run([work.path("a.jsonld"), work.path("b.jsonld")])
        #expect(checked.code == 0, "\(checked.output)")
        // Importing the same file again is refused as a duplicate, naming the event; nothing changes.
        let before = work.digest("b.sqlite")
        let again = try work.run([
            "record", "--from-epcis", "a.jsonld", "--db", "b.sqlite", "--key", "keys/northwind.key", "--log-key",
            "keys/log.key",
        ])
        #expect(again.code == 1 && again.isOneLineError, "\(again.stderr)")
        #expect(again.stderr.contains("event 0"), "\(again.stderr)")
        #expect(work.digest("b.sqlite") == before)
    }

    @Test("a ledger that does not verify under the keys given is not exported, and no file is left")
    func unverifiedNotExported() throws {
        let work = try Workspace()
        defer { work.remove() }
        try work.initLedger()
        // Trusting another governance key: the ledger's first roster does not verify under it.
        let result = try work.run([
            "export", "--format", "epcis", "--db", "ledger.sqlite", "--out", "out.jsonld", "--governance-key",
            "keys/northwind.pub", "--log-key", "keys/log.pub",
        ])
        #expect(result.code == 1 && result.isOneLineError, "\(result.stderr)")
        #expect(result.stderr.contains("fails its audit"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: work.path("out.jsonld")))
        #expect(!FileManager.default.fileExists(atPath: work.path("out.jsonld.partial")))
    }

    @Test("import refuses events with no Retrace meaning, naming each, and leaves the ledger unchanged")
    func importRefusals() throws {
        let work = try Workspace()
        defer { work.remove() }
        try work.initLedger()
        let before = work.digest("ledger.sqlite")
        func record(_ file: String) throws -> CLIResult {
            try work.run([
                "record", "--from-epcis", file, "--db", "ledger.sqlite", "--key", "keys/northwind.key", "--log-key",
                "keys/log.key",
            ])
        }
        // GS1's aggregation example: not an ObjectEvent.
        let aggregation = try record(SchemaValidator.gs1("Example_9.6.3-AggregationEvent.jsonld"))
        #expect(aggregation.code == 2, "\(aggregation.stderr)")
        #expect(aggregation.stderr.contains("event 0") && aggregation.stderr.contains("AggregationEvent"))
        // GS1's 9.6.1: SGTINs shipped with a purchase order that is not a Retrace digest of an order,
        // and a second event with an `in_progress` disposition that Retrace has no type for.
        let objects = try record(SchemaValidator.gs1("Example_9.6.1-ObjectEventWithDigitalLink.jsonld"))
        #expect(objects.code == 2, "\(objects.stderr)")
        #expect(objects.stderr.contains("in_progress"), "\(objects.stderr)")
        // Not EPCIS at all.
        try work.write("nonsense.json", Array("{\"type\":\"Nonsense\"}".utf8))
        let nonsense = try record("nonsense.json")
        #expect(nonsense.code == 2 && nonsense.stderr.contains("EPCISDocument"), "\(nonsense.stderr)")
        // A valid mapping of a product this ledger never commissioned: refused by the ledger.
        try work.write(
            "ship.json",
            Array(
                """
                {"@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],"type":"EPCISDocument",
                 "schemaVersion":"2.0","creationDate":"2026-03-02T12:00:00Z","epcisBody":{"eventList":[
                 {"type":"ObjectEvent","eventTime":"2026-03-02T13:00:00.250+01:00","eventTimeZoneOffset":"+01:00",
                  "action":"OBSERVE","bizStep":"shipping","disposition":"in_transit",
                  "epcList":["urn:epc:id:sgtin:9506000.013435.NOPE1"]}]}}
                """.utf8
            )
        )
        let unknown = try record("ship.json")
        #expect(unknown.code == 1, "\(unknown.stderr)")
        #expect(
            unknown.stderr.contains("event 0") && unknown.stderr.contains("never commissioned"),
            "\(unknown.stderr)"
        )
        #expect(work.digest("ledger.sqlite") == before)
    }

    @Test("a batch statement exports as one event listing its members and imports back as the same batch statement")
    func batchRoundTrip() throws {
        let work = try Workspace()
        defer { work.remove() }
        try work.initLedger("a.sqlite")
        try work.initLedger("b.sqlite")
        let parties = try #require(Workspace.parties)
        let start = try Timestamp(parsing: "2026-03-02T10:00:00Z")
        var lines: [UInt8] = []
        var members: [BatchMember] = []
        for (offset, serial) in ["BAT001", "BAT002", "BAT003"].enumerated() {
            let product = try SGTIN(gtin: GTIN("09506000134352"), serial: Serial(serial))
            let commission = try parties.sign(
                .commission,
                product: product,
                previous: nil,
                by: "northwind",
                at: start.adding(seconds: Int64(offset))
            )
            lines += try CanonicalJSON.encode(commission.json) + [0x0a]
            members.append(BatchMember(product: product, previous: commission.id))
        }
        let ship = try parties.sign(
            .ship,
            product: nil,
            previous: nil,
            by: "northwind",
            at: start.adding(seconds: 3600),
            location: "9506000000022",
            details: ["consignee": "alpine", "shipment": "PAL-7"],
            batch: members
        )
        lines += try CanonicalJSON.encode(ship.json) + [0x0a]
        try work.write("statements.jsonl", lines)
        let appended = try work.run(["append", "statements.jsonl", "--db", "a.sqlite", "--log-key", "keys/log.key"])
        #expect(appended.code == 0, "\(appended.stderr)")
        #expect(try work.run(["export", "--format", "epcis", "--db", "a.sqlite", "--out", "a.jsonld"]).code == 0)
        let events = Self.events(try Self.document(work, "a.jsonld"))
        let batch = try #require(events.last)
        #expect(batch["epcList"] as? [String] == members.map(\.product.digitalLink))
        #expect(batch["retrace:statementId"] as? String == ship.id.hex)
        #expect((batch["readPoint"] as? [String: String])?["id"] == "urn:epc:id:sgln:9506000.00002.0")
        let imported = try work.run([
            "record", "--from-epcis", "a.jsonld", "--db", "b.sqlite", "--key", "keys/northwind.key", "--log-key",
            "keys/log.key", "--json",
        ])
        #expect(imported.code == 0, "\(imported.stderr)")
        #expect(try work.run(["export", "--format", "epcis", "--db", "b.sqlite", "--out", "b.jsonld"]).code == 0)
        let again = Self.events(try Self.document(work, "b.jsonld")).compactMap { $0["retrace:statementId"] as? String }
        #expect(again == events.compactMap { $0["retrace:statementId"] as? String })
        #expect(again.last == ship.id.hex, "the batch statement, byte for byte")
    }
}
