import RetraceWitness
import Testing

@Suite("C2SP tlog-policy: syntax and quorum evaluation")
struct PolicyTests {
    static let keys = [
        "witness1.example+e07dbc84+BKtxUtFr3OahCzAuVG59NFPQZIMa/KT56Zz6eScbQwgU",
        "witness2.example+826e3ea4+BGiDX5D+1UhhQ/h8eDGrdDLpPOK5pxu+rzitRevDc5yT",
        "witness3.example+a382fd58+BCHw9AYTlyP2dcbSvsKK3ciFP5NpWqkestMjAM1NRDtF",
    ]

    @Test("nested groups: all of (2 of X1 X2 X3) and (any of Y)")
    func nested() throws {
        let policy = try WitnessPolicy(
            parsing: """
                # two organisations
                witness X1 \(Self.keys[0]) http://127.0.0.1:1/
                  witness\tX2 \(Self.keys[1])
                group X 2 X1 X2
                witness Y1 \(Self.keys[2])
                group Y any Y1
                group XY all X Y
                quorum XY

                """
        )
        #expect(policy.witnesses[0].url == "http://127.0.0.1:1/")
        #expect(!policy.isSatisfied(by: ["X1", "X2"]))
        #expect(!policy.isSatisfied(by: ["X1", "Y1"]))
        #expect(policy.isSatisfied(by: ["X1", "X2", "Y1"]))
    }

    @Test("quorum none needs nobody; quorum of one witness needs it")
    func simpleQuorums() throws {
        #expect(try WitnessPolicy(parsing: "quorum none\n").isSatisfied(by: []))
        let one = try WitnessPolicy(parsing: "witness A \(Self.keys[0])\nquorum A\n")
        #expect(!one.isSatisfied(by: []))
        #expect(one.isSatisfied(by: ["A"]))
    }

    @Test(
        "malformed policies are refused with the line that is wrong",
        arguments: [
            "",  // no quorum
            "quorum A\n",  // undefined name
            "witness A \(keys[0])\nwitness A \(keys[1])\nquorum A\n",  // duplicate name
            "witness A \(keys[0])\nwitness B \(keys[0])\nquorum A\n",  // duplicate key
            "witness A \(keys[0])\ngroup G 2 A\nquorum G\n",  // k > n
            "witness A \(keys[0])\ngroup G 0 A\nquorum G\n",  // k < 1
            "witness A \(keys[0])\ngroup G 01 A\nquorum G\n",  // leading zero
            "witness A \(keys[0])\ngroup G any A A\nquorum G\n",  // member twice
            "group G any A\nwitness A \(keys[0])\nquorum G\n",  // forward reference
            "witness A \(keys[0])\nquorum A\nquorum A\n",  // two quorum lines
            "witness none \(keys[0])\nquorum none\n",  // reserved name
            // A log key (type 0x01) as a witness.
            "witness A log.example+923176b0+AXprTDJ25VDSjD1puL+3aAYLbWTSY2q4MuLhyFMcSJRK\nquorum A\n",
            "witness A \(keys[0])\nquorum A\nfrobnicate\n",  // unknown keyword
            "witness A \(keys[0])\u{0B}\nquorum A\n",  // control character
        ]
    )
    func refused(text: String) {
        #expect(throws: WitnessError(.malformedPolicy, "")) { try WitnessPolicy(parsing: text) }
    }
}
