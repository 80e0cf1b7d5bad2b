import CanonicalJSON
import Foundation
import RetraceCrypto
import RetraceEPCIS
import RetraceEvents
import RetraceLedger
import RetraceSimulation
import RetraceTestSupport
import Testing

/// `spec/vectors/epcis.json`: statements with the EPCIS 2.0 event each exports as (spec/epcis.md §2),
/// and signed dock-scan journal lines (spec/insights.md §2), from the fixed test keys and times.
/// Regenerated and compared byte for byte; `RETRACE_WRITE_VECTORS=1` rewrites it.
@Suite("EPCIS and observation vectors (spec/vectors/epcis.json)")
struct EPCISVectorTests {
    static let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../spec/vectors/epcis.json").standardized

    static func generate() throws -> String {
        let fixture = try LedgerFixture(clock: { Timestamp(secondsSinceEpoch: 1_772_528_400) })
        defer { fixture.remove() }
        let p = fixture.parties
        let codec = SGLNCodec(roster: p.roster)
        var events: [JSONValue] = []
        func add(_ text: String, _ signed: SignedStatement) throws {
            let result = try fixture.ledger.append([signed])
            let index = result.receipts[0].index
            let stored = try #require(try fixture.ledger.store.read { try $0.entry(at: index) })
            let received = Timestamp(secondsSinceEpoch: stored.received)
            let products = signed.statement.product.map { [$0] } ?? signed.members.map(\.product)
            events.append(
                .object([
                    "description": .string(text), "signed": signed.json, "logIndex": .integer(Int64(index)),
                    "received": .string(received.description),
                    "event": .object(
                        EPCISExport.event(
                            statement: signed.statement,
                            products: products,
                            index: index,
                            received: received,
                            sgln: codec
                        )
                    ),
                ])
            )
        }
        let a = try LedgerFixture.product("E1001")
        let b = try LedgerFixture.product("E1002")
        let ca = try p.sign(
            .commission,
            product: a,
            previous: nil,
            by: "northwind",
            at: LedgerFixture.time(0),
            location: "9506000000015",
            details: .of(["lot": "L-E1"])
        )
        try add("commission at the brand's site: action ADD, SGLN under the roster's company prefix 9506000", ca)
        let cb = try p.sign(.commission, product: b, previous: nil, by: "northwind", at: LedgerFixture.time(1))
        try add("commission without a location: no readPoint", cb)
        let ship = try p.sign(
            .ship,
            product: nil,
            previous: nil,
            by: "northwind",
            at: LedgerFixture.time(10),
            location: "9506000000022",
            details: .of(["consignee": "fabrikam", "shipment": "SH-42"]),
            batch: [BatchMember(product: a, previous: ca.id), BatchMember(product: b, previous: cb.id)]
        )
        try add("a batch ship: one ObjectEvent listing both members, a desadv transaction, no bizLocation", ship)
        let receive = try p.sign(
            .receive,
            product: a,
            previous: ship.id,
            by: "fabrikam",
            at: LedgerFixture.time(20),
            location: "9520001000010"
        )
        try add("receipt at a retailer's site: no roster prefix covers 9520001000010, so 7 digits by default", receive)
        let sell = try p.sign(
            .sell,
            product: a,
            previous: receive.id,
            by: "fabrikam",
            at: LedgerFixture.time(30),
            details: .of([
                "orderDigest": .string(Hex.encode(SHA256.hash(Array("salt|order-1".utf8)))), "channel": "store",
            ])
        )
        try add("a sale: the salted order digest as a po transaction", sell)

        var observations: [JSONValue] = []
        let dock = try p.signer("litware")
        for (text, scan, verdict, product) in [
            ("a genuine return", "(01)09506000134352(21)E1001", "genuine-returnable", Optional(a)),
            ("an unreadable scan: no product member", "not-a-code", "invalid-scan", nil),
        ] {
            let observation = try DockObservation.sign(
                scan: scan,
                product: product,
                verdict: verdict,
                time: LedgerFixture.time(60),
                checkpointSize: 6,
                location: "9520003000018",
                key: dock.privateKey,
                publicKey: dock.verifier.publicKey
            )
            observations.append(
                .object([
                    "description": .string(text), "verifierKey": .string(dock.verifier.description),
                    "line": .string(String(decoding: try CanonicalJSON.encode(observation.json), as: UTF8.self)),
                    "signingInputHex": .string(Hex.encode(try observation.signingInput())),
                ])
            )
        }
        var file = JSONObject()
        file["description"] = .string(
            "Retrace statements as EPCIS 2.0 events (spec/epcis.md) and dock scan journal lines (spec/insights.md §2), "
                + "generated by Tests/RetraceLedgerTests/EPCISVectorTests.swift from the public test keys."
        )
        file["events"] = .array(events)
        file["observations"] = .array(observations)
        return PrettyJSON.render(.object(file)) + "\n"
    }

    @Test("the committed vectors equal what the code generates")
    func committedVectorsMatch() throws {
        let generated = try Self.generate()
        switch try SpecVectors.check([(Self.url, Array(generated.utf8))]) {
        case .rewritten(let note): Issue.record("\(note)")
        case .compared(let differing): #expect(differing.isEmpty, "\(differing) differ from what the code generates")
        }
    }

    @Test("from the file alone: each journal line parses, and its signature verifies over the context and body")
    func observationsVerify() throws {
        let file = try CanonicalJSON.decode(Array(try Data(contentsOf: Self.url)), options: .lenient)
        let lines = file["observations"]?.arrayValue ?? []
        #expect(lines.count == 2)
        for vector in lines {
            let key = try NoteVerifier(parsing: vector["verifierKey"]!.stringValue!)
            let observation = try DockObservation(parsing: Array(vector["line"]!.stringValue!.utf8))
            #expect(observation.isSigned(by: key.publicKey))
            let input = try #require(Hex.decode(vector["signingInputHex"]!.stringValue!))
            #expect(input.starts(with: Array("retrace/v1/observation\n".utf8)))
            #expect(key.publicKey.isValidSignature(observation.signature, for: input))
        }
        #expect((file["events"]?.arrayValue ?? []).count == 5)
    }
}
