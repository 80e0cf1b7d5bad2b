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
