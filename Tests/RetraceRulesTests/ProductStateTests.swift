import CanonicalJSON
import RetraceEvents
import RetraceRules
import Testing

/// The stored product state: canonical JSON that reads back to the same value, strictly.
struct ProductStateTests {
    @Test("the state after every phase's path survives canonical JSON and back", arguments: Phase.all)
    func roundTrip(_ phase: Phase) throws {
        let parties = try TestParties.get()
        var chain = try ProductChain.inPhase(
            phase,
            serial: "PS-\(Phase.all.firstIndex(of: phase) ?? 0)",
            parties: parties
        )
        if !phase.isTerminal {
            try chain.record(.recall)
            try chain.record(.reportLost)
        }
        let state = try #require(chain.state)
        let bytes = try CanonicalJSON.encode(state.json)
        let read = try ProductState(json: CanonicalJSON.decode(bytes))
        #expect(read == state)
        #expect(try CanonicalJSON.encode(read.json) == bytes)
        #expect(try state.canonicalBytes() == bytes)
        #expect(read.phase == phase)
    }

    @Test("a state with a sale, an RMA, a claim, a lease and a recall keeps all of them")
    func richState() throws {
        let parties = try TestParties.get()
        var chain = try ProductChain.inPhase(.returnAuthorized, serial: "PS-RICH", parties: parties)
        try chain.record(.recall)
        let state = try #require(chain.state)
        #expect(state.sale?.orderDigest.hex == TestParties.saltedDigest("order-1"))
        #expect(state.sale?.customerDigest?.hex == TestParties.saltedDigest("customer-1"))
        #expect(state.returnAuthorization?.reason == "wrong-size")
        #expect(state.recall?.recalledBy == "northwind")
        #expect(try ProductState(json: state.json) == state)
        var leased = try ProductChain.inPhase(.leased, serial: "PS-LEASE", parties: parties)
        let leaseState = try #require(leased.state)
        #expect(try ProductState(json: leaseState.json).lease == leaseState.lease)
        try leased.record(.leaseReturn)
        #expect(leased.state?.lease == nil)
    }

    /// Every member a state can hold, with strings that need escapes and material names whose
    /// UTF-16 order differs from their scalar order (U+E000 sorts after U+1F600 by scalar, before
    /// it by UTF-16 code unit).
    static func everyMember() -> JSONObject {
        let digest = { (c: Character) in JSONValue.string(String(repeating: c, count: 64)) }
        let time: JSONValue = "2026-05-01T10:20:30Z"
        return [
            "brandOwner": "north\"wind\\", "certifiedRefurbished": true, "consignee": "dock\u{7}\n\t",
            "counters": [
                "refurbishments": 1, "repairs": 2, "returns": 3, "sales": 9_007_199_254_740_991, "warrantyClaims": 0,
            ],
            "custodian": "café ☕", "declaredMassGrams": 1_250,
            "declaredMaterials": ["steel": 900, "\u{E000}": 1, "😀": 2, "Al": 3, "a\"b": 4],
            "grade": "A", "gtin": "09506000134352", "head": digest("a"), "lastEventTime": time,
            "lastEventType": "recall",
            "lease": ["leaseDigest": digest("b"), "lessor": "lessor", "until": time],
            "missing": ["kind": "lost", "reportedBy": "carrier\u{1F}", "time": time],
            "passport": digest("c"), "phase": "sold",
            "recall": [
                "event": digest("d"), "notice": "N-1", "reason": "battery", "recalledBy": "northwind",
                "remedy": "replace",
                "time": time,
            ],
            "refurbishedWarrantyMonths": 12,
            "returnAuthorization": ["authorizedBy": "shop", "reason": "wrong-size", "rma": "RMA/1", "time": time],
            "sale": [
                "certifiedPreOwned": true, "customerDigest": digest("e"), "orderDigest": digest("f"), "preOwned": true,
                "retailer": "shop", "returnBy": time, "time": time,
            ],
            "warrantyClaim": ["claim": "W-1", "openedBy": "shop", "time": time],
        ]
    }

    @Test("a state's canonical bytes, written member by member, are encode(json), whichever members it has")
    func canonicalBytes() throws {
        let full = Self.everyMember()
        let optional = [
            "certifiedRefurbished", "consignee", "custodian", "declaredMassGrams", "declaredMaterials", "grade",
            "lease",
            "missing", "recall", "refurbishedWarrantyMonths", "returnAuthorization", "sale", "warrantyClaim",
        ]
        var generator = SystemRandomNumberGenerator()
        var shapes = [full]
        var bare = full
        for key in optional { bare[key] = nil }
        shapes.append(bare)
        for _ in 0..<200 {
            var object = full
            for key in optional where Bool.random(using: &generator) { object[key] = nil }
            if var sale = object["sale"]?.objectValue {
                for key in ["certifiedPreOwned", "customerDigest", "preOwned", "returnBy"]
                where Bool.random(using: &generator) { sale[key] = nil }
                object["sale"] = .object(sale)
            }
            shapes.append(object)
        }
        for object in shapes {
            let state = try ProductState(json: .object(object))
            let expected = try CanonicalJSON.encode(.object(object))
            #expect(try state.canonicalBytes() == expected)
            #expect(try CanonicalJSON.encode(state.json) == expected)
        }
    }

    @Test("a stored state with an unknown member or phase is refused")
    func strict() throws {
        let parties = try TestParties.get()
        let chain = try ProductChain.inPhase(.sold, serial: "PS-STRICT", parties: parties)
        let state = try #require(chain.state)
        var object = try #require(state.json.objectValue)
        object["note"] = "x"
        #expect(throws: FormatError.self) { _ = try ProductState(json: .object(object)) }
        object["note"] = nil
        object["phase"] = "lost-in-space"
        #expect(throws: FormatError.self) { _ = try ProductState(json: .object(object)) }
        object["phase"] = "sold"
        object["counters"] = nil
        #expect(throws: FormatError.self) { _ = try ProductState(json: .object(object)) }
    }
}
