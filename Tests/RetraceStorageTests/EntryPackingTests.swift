import Testing

@testable import RetraceStorage

@Suite("Entry packing (ledger schema 3)")
struct EntryPackingTests {
    /// An entry of spec/vectors/core.json (index 9): four digests, a signature, three times.
    static let sell: [UInt8] = {
        let text: String = [
            #"{"received":"2026-03-03T09:00:00Z","#,
            #""signature":"NtoHbSpqYEZ1umOAz2x08aFX3RmB66BVKiCV4IIT2seEHsQ2FOSf5UMoDI1VA1uh8VFNI32UM4/se6hhmrezAA==","#,
            #""statement":{"details":{"#,
            #""orderDigest":"00352336a5342f3521f74a5fb6ff272a5de0ec40357563187c9d3a199381c261","#,
            #""returnBy":"2026-04-01T09:00:00Z"},"#,
            #""previous":"18e6c77bb51dedd19fc7a834283e97c70c5a1a51ad951e9a957ec0f89124c27f","#,
            #""product":"https://id.gs1.org/01/09506000134352/21/A1001","#,
            #""signer":"9df37469b43e083b6b9df046a68eb171519bb0360173eb2979d4922cba9275ac","#,
            #""time":"2026-03-02T09:30:00Z","type":"sell","version":1}}"#,
        ].joined()
        return Array(text.utf8)
    }()

    @Test("a real entry packs to less than half and comes back byte for byte")
    func knownEntry() throws {
        let packed = EntryPacking.pack(Self.sell)
        #expect(packed.first == EntryPacking.packedMarker)
        #expect(packed.count <= 250, "packed \(Self.sell.count) bytes into \(packed.count)")
        #expect(try EntryPacking.unpack(packed) == Self.sell)
    }

    @Test("a verbatim value (every entry of a schema 1 or 2 ledger) reads as it is")
    func verbatim() throws {
        #expect(try EntryPacking.unpack(Self.sell) == Self.sell)
        let tiny = Array(#"{"a":1}"#.utf8)
        #expect(EntryPacking.pack(tiny) == tiny, "packing that saves nothing keeps the entry verbatim")
    }

    @Test("shapes that must not be packed stay literal and still round-trip")
    func nearMisses() throws {
        let cases = [
            // Uppercase hex, a time with a field too wide for its bits, a signature whose
            // unused padding bits are set, base64 one character short, text beyond ASCII.
            #"{"x":"00352336A5342F3521F74A5FB6FF272A"}"#,
            #"{"time":"2026-99-02T09:30:00Z","t":"2026-03-02T09:30:00"}"#,
            #"{"signature":"NtoHbSpqYEZ1umOAz2x08aFX3RmB66BVKiCV4IIT2seEHsQ2FOSf5UMoDI1VA1uh8VFNI32UM4/se6hhmrezAB=="}"#,
            #"{"signature":"toHbSpqYEZ1umOAz2x08aFX3RmB66BVKiCV4IIT2seEHsQ2FOSf5UMoDI1VA1uh8VFNI32UM4/se6hhmrezAA=="}"#,
            #"{"name":"Société Générale ☃ 𝄞","lot":"abcdef0123456789abcdef0123456789a"}"#,
            #"{"received":"9999-12-31T23:59:59Z","time":"0000-00-00T00:00:00Z"}"#,
        ]
        for text in cases {
            let bytes = Array(text.utf8)
            let packed = EntryPacking.pack(bytes)
            #expect(try EntryPacking.unpack(packed) == bytes, "\(text)")
        }
    }

    @Test("random JSON-like text round-trips exactly")
    func randomRoundTrips() throws {
        var generator = SeededGenerator(seed: 0x5EED_0003)
        let extra: [String] = [
            "\"", "2026-03-02T09:30:00Z", "0123456789abcdef", "ABCDEF", "==", "+/", "{", "}", ",", ":", "é", "\u{7F}",
            "\u{1}", "00352336a5342f3521f74a5fb6ff272a5de0ec40357563187c9d3a199381c261",
            "NtoHbSpqYEZ1umOAz2x08aFX3RmB66BVKiCV4IIT2seEHsQ2FOSf5UMoDI1VA1uh8VFNI32UM4/se6hhmrezAA==",
        ]
        let pieces = EntryPacking.dictionary + extra
        for _ in 0..<20_000 {
            var bytes: [UInt8] = []
            for _ in 0..<Int.random(in: 1...24, using: &generator) {
                bytes += Array(pieces.randomElement(using: &generator)!.utf8)
                if Bool.random(using: &generator) { bytes.append(UInt8.random(in: 0...255, using: &generator)) }
            }
            let packed = EntryPacking.pack(bytes)
            #expect(try EntryPacking.unpack(packed) == bytes)
        }
    }

    @Test("a damaged packed value is refused with the byte where it fails, never a trap")
    func damaged() throws {
        let packed = EntryPacking.pack(Self.sell)
        #expect(throws: StorageError.self) { try EntryPacking.unpack(Array(packed.prefix(packed.count - 70))) }
        #expect(throws: StorageError.self) { try EntryPacking.unpack([0x01, 0xF0]) }
        #expect(throws: StorageError.self) { try EntryPacking.unpack([0x01, 0xF0, 0x00]) }
        do {
            _ = try EntryPacking.unpack([0x01, 0x7B, 0xF7])
            Issue.record("an invalid token was accepted")
        } catch let error as StorageError {
            #expect(error.code == .corrupt)
            #expect("\(error)".contains("0xf7 at byte 2"), "\(error)")
        }
        // Every cut of a real packed entry either fails cleanly or yields other bytes.
        for length in 1..<packed.count {
            if let back = try? EntryPacking.unpack(Array(packed.prefix(length))) { #expect(back != Self.sell) }
        }
    }
}

/// SplitMix64: the same sequence on every run, so a failure names an input that can be replayed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
