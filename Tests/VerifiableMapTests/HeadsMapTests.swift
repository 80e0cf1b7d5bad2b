import RetraceCrypto
import Testing
import VerifiableMap

/// A deterministic generator, so every failure is reproducible from its seed.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func head(_ n: Int) throws -> HeadValue {
    try HeadValue(eventID: SHA256.hash(Array("event \(n)".utf8)), count: UInt64(n % 7 + 1), index: UInt64(n * 3))
}

func productKey(_ n: Int) -> [UInt8] { MapKey.product("https://id.gs1.org/01/09506000134352/21/S\(n)") }

/// What each of `keys` gained in `round` of a random update: a new event id, 1 to 5 events, an index.
func randomGains(_ keys: Set<Int>, round: Int, _ generator: inout SplitMix) throws -> [(key: [UInt8], value: HeadValue)]
{
    try keys.map { n in
        let value = try HeadValue(
            eventID: SHA256.hash(Array("round \(round) \(n)".utf8)),
            count: generator.next() % 5 + 1,
            index: UInt64(round * 1_000 + n)
        )
        return (key: productKey(n), value: value)
    }
}

@Suite("Heads map: sparse Merkle tree with shortcut leaves")
struct HeadsMapTests {
    @Test("known answers: the empty map, one key, two keys (spec/vectors/heads-map.json)")
    func knownAnswers() throws {
        #expect(HeadsMap().root == [UInt8](repeating: 0, count: 32))
        #expect(Hex.encode(MapKey.roster) == Hex.encode(SHA256.hash(Array("retrace-heads/v1 roster\n".utf8))))
        // The keys held inline are the same bytes.
        #expect(MapKey.rosterDigest.bytes == MapKey.roster)
        for n in [0, 1, 999] {
            #expect(MapKey.productDigest("https://id.gs1.org/01/09506000134352/21/S\(n)").bytes == productKey(n))
        }
        #expect(MapKey.productClassDigest("09506000134352").bytes == MapKey.productClass("09506000134352"))
        var one = HeadsMap()
        let value = try head(1)
        try one.set(MapKey.roster, value)
        // One key: the root is its leaf hash, SHA-256(0x02 ‖ key ‖ value).
        #expect(one.root == SHA256.hash([0x02] + MapKey.roster + value.bytes))
        var two = one
        let key = productKey(1)
        try two.set(key, try head(2))
        let first = MapKey.roster[0] & 0x80 == 0
        let rosterLeaf = SHA256.hash([0x02] + MapKey.roster + value.bytes)
        let productLeaf = SHA256.hash([0x02] + key + (try head(2)).bytes)
        // The two keys differ at bit 0 or deeper; compute the expected root by the spec's rule.
        var depth = 0
        while (MapKey.roster[depth >> 3] ^ key[depth >> 3]) & (0x80 >> UInt8(depth & 7)) == 0 { depth += 1 }
        let rosterRight = MapKey.roster[depth >> 3] & (0x80 >> UInt8(depth & 7)) != 0
        var expected =
            rosterRight
            ? SHA256.hash([0x03] + productLeaf + rosterLeaf) : SHA256.hash([0x03] + rosterLeaf + productLeaf)
        for level in stride(from: depth - 1, through: 0, by: -1) {
            let right = key[level >> 3] & (0x80 >> UInt8(level & 7)) != 0
            let empty = [UInt8](repeating: 0, count: 32)
            expected = right ? SHA256.hash([0x03] + empty + expected) : SHA256.hash([0x03] + expected + empty)
        }
        _ = first
        #expect(two.root == expected)
        #expect(one.root != two.root && two.count == 2)
        // Persistence: the older value is unchanged by the update of its copy.
        let second = try head(2)
        #expect(one.count == 1 && one.value(key) == nil && two.value(key) == second)
    }

    @Test("any insertion order, and the bulk build, give the same root")
    func orderIndependence() throws {
        let entries = try (0..<600).map { (key: productKey($0), value: try head($0)) }
        let bulk = try HeadsMap(entries: entries)
        var generator = SplitMix(state: 11)
        for _ in 0..<4 {
            var map = HeadsMap()
            for entry in entries.shuffled(using: &generator) { try map.set(entry.key, entry.value) }
            #expect(map.root == bulk.root)
            #expect(map.count == 600)
        }
        // Updating a value changes the root, and setting it back restores it.
        var map = bulk
        try map.set(productKey(5), try head(6))
        #expect(map.root != bulk.root)
        try map.set(productKey(5), try head(5))
        #expect(map.root == bulk.root)
    }

    @Test(
        "set(all:) equals the same updates one by one: new keys, changed values, repeats, leaves split and replaced",
        arguments: [0, 1, 2, 50, 600]
    )
    func batchEqualsSequential(start: Int) throws {
        var generator = SplitMix(state: UInt64(start) &+ 7)
        var map = try HeadsMap(entries: (0..<start).map { (key: productKey($0), value: try head($0)) })
        for round in 0..<6 {
            let size = [1, 2, 3, 17, 200, 1_000][round]
            // Existing keys, new ones and keys repeated in the batch (the last value wins).
            let updates = try (0..<size).map { _ in
                let n = Int(generator.next() % UInt64(max(start * 2, 8)))
                return (key: productKey(n), value: try head(Int(generator.next() % 10_000)))
            }
            var sequential = map
            for update in updates { try sequential.set(update.key, update.value) }
            var batched = map
            try batched.set(all: updates)
            #expect(batched.root == sequential.root, "start \(start), round \(round)")
            #expect(batched.count == sequential.count)
            for update in updates { #expect(batched.value(update.key) == sequential.value(update.key)) }
            // The original value is untouched (persistence), and proofs of the batched map verify.
            let sample = try #require(updates.first)
            try batched.proof(sample.key).verifyMembership(
                key: sample.key,
                value: try #require(sequential.value(sample.key)),
                root: batched.root
            )
            map = batched
        }
        #expect(
            try {
                var empty = map
                try empty.set(all: [])
                return empty.root
            }() == map.root
        )
    }

    /// `set(all:)` changes nodes in place when the map updating them is their only owner. Every
    /// batch here lands on a map no other version shares (in place), except after a copy is
    /// taken (copied on write): each root must equal a fresh build of the same keys and values,
    /// and each copy must keep the root it had when it was taken.
    @Test("set(all:) in place on an unshared map equals a fresh build, and leaves a copy taken before it alone")
    func inPlaceUpdates() throws {
        var generator = SplitMix(state: 29)
        var values: [[UInt8]: HeadValue] = [:]
        var map = HeadsMap()
        var copies: [(map: HeadsMap, root: [UInt8], count: Int)] = []
        for round in 0..<40 {
            let size = [1, 1, 2, 5, 40, 300][round % 6]
            // Mostly keys already present (a value changed in place), some new ones (leaves split).
            let updates = try (0..<size).map { _ in
                let n = Int(generator.next() % 400)
                return (key: productKey(n), value: try head(Int(generator.next() % 10_000)))
            }
            for update in updates { values[update.key] = update.value }
            if round % 7 == 3 { copies.append((map, map.root, map.count)) }
            try map.set(all: updates)
            let fresh = try HeadsMap(entries: values.map { (key: $0.key, value: $0.value) })
            #expect(map.root == fresh.root, "round \(round)")
            #expect(map.count == values.count)
            for update in updates.prefix(3) { #expect(map.value(update.key) == values[update.key]) }
        }
        for copy in copies {
            #expect(copy.map.root == copy.root)
            #expect(copy.map.count == copy.count)
        }
    }

    /// An audit hands the map what each chain gained since its last update; the map adds the
    /// count it held. That must equal setting the summed counts, on a shared map and in place.
    @Test("advance(all:) adds each count to the one held, in place or on a shared map; a key twice is refused")
    func advanceAddsCounts() throws {
        var generator = SplitMix(state: 41)
        var values: [[UInt8]: HeadValue] = [:]
        for n in 0..<300 { values[productKey(n)] = try head(n) }
        var map = try HeadsMap(entries: values.map { (key: $0.key, value: $0.value) })
        for round in 0..<30 {
            var keys = Set<Int>()
            for _ in 0..<[1, 3, 60, 400][round % 4] { keys.insert(Int(generator.next() % 600)) }
            let gained = try randomGains(keys, round: round, &generator)
            for (key, value) in gained {
                let count = (values[key]?.count ?? 0) + value.count
                values[key] = try HeadValue(eventID: value.eventID, count: count, index: value.index)
            }
            // On even rounds another version shares the map (copied on write), on odd ones not (in place).
            let shared: HeadsMap? = round % 2 == 0 ? map : nil
            let sharedRoot = shared?.root
            try map.advance(all: gained)
            let fresh = try HeadsMap(entries: values.map { (key: $0.key, value: $0.value) })
            #expect(map.root == fresh.root, "round \(round)")
            #expect(map.count == values.count)
            for (key, _) in gained.prefix(5) { #expect(map.value(key) == values[key]) }
            #expect(shared?.root == sharedRoot)
        }
        let key = productKey(1)
        #expect(throws: MapError.self) { try map.advance(all: [(key, try head(1)), (key, try head(2))]) }
    }

    @Test("every member and absent key proves, round-trips its encoding, and is O(log n)")
    func proofsVerify() throws {
        let entries = try (0..<2_000).map { (key: productKey($0), value: try head($0)) }
        let map = try HeadsMap(entries: entries)
        for (n, entry) in entries.enumerated() where n % 7 == 0 {
            let proof = try map.proof(entry.key)
            try proof.verifyMembership(key: entry.key, value: entry.value, root: map.root)
            let decoded = try MapProof(bytes: proof.bytes)
            #expect(decoded == proof)
            try decoded.verifyMembership(key: entry.key, value: entry.value, root: map.root)
            #expect(proof.siblings.count < 40)
        }
        var sawEmpty = false
        var sawOther = false
        for n in 10_000..<10_300 {
            let key = productKey(n)
            let proof = try map.proof(key)
            try MapProof(bytes: proof.bytes).verifyAbsence(key: key, root: map.root)
            if case .empty = proof.terminal { sawEmpty = true }
            if case .otherLeaf = proof.terminal { sawOther = true }
        }
        #expect(sawEmpty && sawOther)
        // The empty map proves every key absent with a zero-depth proof.
        let none = try HeadsMap().proof(MapKey.roster)
        #expect(none.bytes == [1, 0, 0])
        try none.verifyAbsence(key: MapKey.roster, root: HeadsMap().root)
    }

    @Test("every flipped bit of a proof is refused, and kinds cannot be swapped")
    func flippedBits() throws {
        let entries = try (0..<300).map { (key: productKey($0), value: try head($0)) }
        let map = try HeadsMap(entries: entries)
        let member = try map.proof(entries[17].key)
        let bytes = member.bytes
        for bit in 0..<(bytes.count * 8) {
            var changed = bytes
            changed[bit / 8] ^= 1 << UInt8(bit % 8)
            #expect(throws: MapError.self) {
                try MapProof(bytes: changed).verifyMembership(
                    key: entries[17].key,
                    value: entries[17].value,
                    root: map.root
                )
            }
        }
        // A membership proof is never an absence proof, nor proves a neighbour's key.
        #expect(throws: MapError(.wrongKind, "the proof shows the key present, not absent")) {
            try member.verifyAbsence(key: entries[17].key, root: map.root)
        }
        #expect(throws: MapError.self) {
            try member.verifyMembership(key: entries[18].key, value: entries[17].value, root: map.root)
        }
        // An absence proof, bit-flipped, is refused; offered for a present key, it fails.
        let absentKey = productKey(99_999)
        let absence = try map.proof(absentKey).bytes
        for bit in 0..<(absence.count * 8) {
            var changed = absence
            changed[bit / 8] ^= 1 << UInt8(bit % 8)
            #expect(throws: MapError.self) {
                try MapProof(bytes: changed).verifyAbsence(key: absentKey, root: map.root)
            }
        }
        #expect(throws: MapError.self) {
            try MapProof(bytes: absence).verifyAbsence(key: entries[3].key, root: map.root)
        }
        // A stale root (one head later) refuses the old proof: a dropped newest event is caught.
        var later = map
        try later.set(entries[17].key, try head(1_000))
        #expect(throws: MapError.self) {
            try member.verifyMembership(key: entries[17].key, value: entries[17].value, root: later.root)
        }
    }

    @Test("malformed proof encodings name what is wrong")
    func malformed() throws {
        let cases: [([UInt8], String)] = [
            ([], "a proof is at least 3 bytes, got 0"),
            ([3, 0, 0], "proof kind 3 is not 0, 1 or 2"),
            ([1, 1, 1], "proof depth 257 exceeds 256"),
            ([1, 0, 1], "the proof ends inside its bitmap"),
            ([1, 0, 1, 0x40], "the bitmap's spare bits are not zero"),
            ([1, 0, 1, 0x80], "the proof ends inside sibling 0"),
            ([1, 0, 0, 9], "1 trailing bytes after an absence proof"),
            ([0, 0, 0], "a membership proof ends with a 48-byte value, found 0 bytes"),
        ]
        for (bytes, reason) in cases {
            #expect { try MapProof(bytes: bytes) } throws: { error in
                (error as? MapError)?.code == .malformedProof && (error as? MapError)?.reason == reason
            }
        }
    }
}
