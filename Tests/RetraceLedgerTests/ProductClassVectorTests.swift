import CanonicalJSON
import Foundation
import RetraceCrypto
import RetraceEvents
import RetraceLedger
import RetraceRules
import RetraceSimulation
import RetraceTestSupport
import Testing
import VerifiableMap

/// `spec/vectors/product-class.json`: `product-class` statements (lifecycle.md §2.3, format.md §3).
/// Generated from the fixed test keys and times: the valid chain is appended to a real ledger, the
/// refused statements are offered to it after and refused with the rule named. Compared byte for
/// byte with the committed file; `RETRACE_WRITE_VECTORS=1` rewrites it after a deliberate change.
@Suite("Product-class vectors (spec/vectors/product-class.json)")
struct ProductClassVectorTests {
    static let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../spec/vectors/product-class.json").standardized

    static let gtin = "09506000134352"

    static func vector(_ text: String, _ signed: SignedStatement) -> JSONObject {
        [
            "description": .string(text), "id": .string(signed.id.hex),
            "canonicalHex": .string(Hex.encode(signed.statement.canonicalBytes)),
            "signatureHex": .string(Hex.encode(signed.signature)), "signed": signed.json,
        ]
    }

    static func details(_ members: [String: JSONValue]) -> JSONObject {
        var object = JSONObject(members)
        if object["gtin"] == nil { object["gtin"] = .string(gtin) }
        return object
    }

    static func generate() throws -> String {
        let fixture = try LedgerFixture(clock: { Timestamp(secondsSinceEpoch: 1_772_528_400) })
        defer { fixture.remove() }
        let p = fixture.parties
        let first = try p.sign(
            .productClass,
            product: nil,
            previous: nil,
            by: "northwind",
            at: LedgerFixture.time(1),
            details: details([
                "name": "Northwind Phone X", "model": "NX-26", "massGrams": 204,
                "materials": ["aluminium": 34, "glass": 52],
                "image": [
                    "url": "https://img.northwind.test/nx-26.png",
                    "sha256": .string(Hex.encode(SHA256.hash(Array("nx-26.png".utf8)))),
                ],
            ])
        )
        let correction = try p.sign(
            .productClass,
            product: nil,
            previous: first.id,
            by: "northwind",
            at: LedgerFixture.time(2),
            details: details(["name": "Northwind Phone X (2026)", "model": "NX-26"])
        )
        let receipt = try fixture.ledger.append([first, correction])
        var chain: [JSONValue] = []
        let texts = [
            "the GTIN's first product-class statement: no previous", "a correction, naming the first as previous",
        ]
        for (position, signed) in [first, correction].enumerated() {
            var object = vector(texts[position], signed)
            object["index"] = .integer(Int64(receipt.receipts[position].index))
            chain.append(.object(object))
        }
        var refused: [JSONValue] = []
        func refuse(_ text: String, _ signed: SignedStatement, rule: String) throws {
            do {
                _ = try fixture.ledger.append([signed])
                throw LedgerError(.malformed, "the ledger accepted \"\(text)\"")
            } catch let error as LedgerError {
                guard error.rule == rule else {
                    throw LedgerError(.malformed, "\"\(text)\": expected \(rule), the ledger said \(error)")
                }
            }
            var object = vector(text, signed)
            object["rule"] = .string(rule)
            refused.append(.object(object))
        }
        try refuse(
            "a brand owner describing a GTIN outside its company prefixes (contoso, 0614141, for 9506000…)",
            try p.sign(
                .productClass,
                product: nil,
                previous: correction.id,
                by: "contoso",
                at: LedgerFixture.time(3),
                details: details(["name": "Counterfeit Phone X"])
            ),
            rule: Rule.ownPrefix
        )
        try refuse(
            "a statement by a party that is no brand owner (fabrikam, retailer)",
            try p.sign(
                .productClass,
                product: nil,
                previous: correction.id,
                by: "fabrikam",
                at: LedgerFixture.time(3),
                details: details(["name": "Phone X"])
            ),
            rule: Rule.role
        )
        try refuse(
            "a broken class chain: previous names the first statement, not the head (the correction)",
            try p.sign(
                .productClass,
                product: nil,
                previous: first.id,
                by: "northwind",
                at: LedgerFixture.time(3),
                details: details(["name": "Phone X"])
            ),
            rule: "C1 chain-head"
        )
        try refuse(
            "a second 'first' statement: the GTIN has a class chain, so previous must name its head",
            try p.sign(
                .productClass,
                product: nil,
                previous: nil,
                by: "northwind",
                at: LedgerFixture.time(3),
                details: details(["name": "Phone X"])
            ),
            rule: "C1 chain-head"
        )
        for (text, members) in [
            ("a name with a line break", ["name": JSONValue.string("Phone\nX")]),
            ("an empty name", ["name": ""]),
            (
                "an image served over http",
                [
                    "name": "Phone X",
                    "image": ["url": "http://img.test/x.png", "sha256": .string(String(repeating: "0", count: 64))],
                ]
            ),
            ("a GTIN with a wrong check digit", ["name": "Phone X", "gtin": "09506000134353"]),
            ("a GTIN-13, not written as GTIN-14", ["name": "Phone X", "gtin": "9506000134352"]),
        ] as [(String, [String: JSONValue])] {
            try refuse(
                text,
                try p.sign(
                    .productClass,
                    product: nil,
                    previous: correction.id,
                    by: "northwind",
                    at: LedgerFixture.time(3),
                    details: details(members)
                ),
                rule: Rule.details
            )
        }
        var file = JSONObject()
        file["description"] = .string(
            "Retrace product-class vectors (catalogue 1.2, spec/lifecycle.md §2.3; class chains, spec/format.md §3, "
                + "§5.2), generated by Tests/RetraceLedgerTests/ProductClassVectorTests.swift from the public test keys. "
                + "The valid chain was appended after entry 0 (the first roster) of a ledger; each refused statement "
                + "was then offered to that ledger and refused with the rule given."
        )
        file["gtin"] = .string(gtin)
        file["chain"] = .string(Statement.classChain(gtin: gtin))
        file["headsKey"] = .string(Hex.encode(MapKey.productClass(gtin)))
        file["valid"] = .array(chain)
        file["refused"] = .array(refused)
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

    @Test("from the file alone: the heads key is SHA-256 of the class prefix and the GTIN; ids and bytes match")
    func vectorsReadBack() throws {
        let file = try CanonicalJSON.decode(Array(try Data(contentsOf: Self.url)), options: .lenient)
        let key = Hex.encode(SHA256.hash(Array("retrace-heads/v1 class\n\(Self.gtin)".utf8)))
        #expect(file["headsKey"]?.stringValue == key)
        let valid = file["valid"]?.arrayValue ?? []
        #expect(valid.count == 2)
        var previous: Digest?
        for vector in valid {
            let signed = try SignedStatement(json: vector["signed"]!)
            #expect(signed.id.hex == vector["id"]?.stringValue)
            #expect(signed.statement.previous == previous)
            #expect(signed.statement.classGTIN == Self.gtin)
            try Catalogue.validate(signed.statement)
            previous = signed.id
        }
        #expect((file["refused"]?.arrayValue ?? []).count == 9)
    }
}
