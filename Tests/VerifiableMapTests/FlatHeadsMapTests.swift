import Foundation
import RetraceCrypto
import Testing
import VerifiableMap

/// The flat heads map must be the heads map: the same root for the same keys and values, whatever
/// the order and batches they arrive in, or it would report a correct ledger as tampered (or miss
/// a wrong commitment).
@Suite("Flat heads map: the heads map an audit updates in place")
struct FlatHeadsMapTests {
    static func flat(_ key: [UInt8], _ value: HeadValue) throws -> FlatHeadsMap.Head {
        try FlatHeadsMap.Head(
            key: #require(SHA256Digest(key)),
            eventID: #require(SHA256Digest(value.eventID)),
            count: value.count,
            index: value.index
        )
    }

    /// Advances both maps by the same heads; their roots and counts must agree after it.
    static func advance(
        _ reference: inout HeadsMap,
        _ flat: inout FlatHeadsMap,
        _ gained: [(key: [UInt8], value: HeadValue)],
        _ label: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        try reference.advance(all: gained)
        try flat.advance(all: gained.map { try Self.flat($0.key, $0.value) })
        #expect(flat.root == reference.root, "\(label)", sourceLocation: sourceLocation)
        #expect(flat.count == reference.count, "\(label)", sourceLocation: sourceLocation)
    }

    @Test("the roots of spec/vectors/heads-map.json")
    func knownAnswers() throws {
        let file = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: MapVectorTests.url)) as? [String: Any]
        )
        let maps = try #require(file["maps"] as? [[String: Any]])
        #expect(maps.count >= 3)
        for map in maps {
            let entries = try #require(map["entries"] as? [[String: String]])
            var flat = FlatHeadsMap()
            try flat.advance(
                all: entries.map { entry in
                    let keyHex = try #require(entry["key"])
                    let valueHex = try #require(entry["value"])
                    let key = try #require(Hex.decode(keyHex))
                    let value = try HeadValue(bytes: try #require(Hex.decode(valueHex)))
                    return try Self.flat(key, value)
                }
            )
            #expect(Hex.encode(flat.root) == map["root"] as? String)
            #expect(flat.count == entries.count)
        }
        #expect(FlatHeadsMap().root == MapHash.empty)
    }

    @Test("random batches of new and known keys give HeadsMap's root after every batch", arguments: [3, 17, 29])
    func agreesWithHeadsMap(seed: UInt64) throws {
        var generator = SplitMix(state: seed)
        var reference = HeadsMap()
        var flat = FlatHeadsMap()
        for round in 0..<60 {
            // Batches of one key (a leaf updated where it stands), a few, and many; keys drawn
            // from a range that grows, so later batches mix new keys with known ones.
            var keys = Set<Int>()
            let size = [1, 1, 2, 7, 150, 600][round % 6]
            for _ in 0..<size { keys.insert(Int(generator.next() % UInt64(50 + round * 40))) }
            let gained = try randomGains(keys, round: round, &generator)
            try Self.advance(&reference, &flat, gained, "seed \(seed), round \(round)")
        }
    }

    @Test("keys that share long prefixes split where they first differ, as in HeadsMap")
    func deepSplits() throws {
        // Keys equal but for their last bits, and one differing in the first bit: the tree goes
        // 250-odd levels down, and a key arriving later splits a leaf deep below the top.
        var base = [UInt8](repeating: 0x5a, count: 32)
        var reference = HeadsMap()
        var flat = FlatHeadsMap()
        for (round, last) in [UInt8(0x00), 0x01, 0x80, 0x81, 0x40, 0x00].enumerated() {
            base[31] = last
            var other = base
            other[0] ^= 0x80
            other[30] = UInt8(round)
            let gained = try [base, other].map { key in
                (
                    key: key,
                    value: try HeadValue(eventID: SHA256.hash(key + [UInt8(round)]), count: 1, index: UInt64(round))
                )
            }
            try Self.advance(&reference, &flat, gained, "round \(round)")
        }
    }

    @Test("random batches of clustered keys (long shared prefixes) agree with HeadsMap", arguments: [5, 11])
    func clusteredKeys(seed: UInt64) throws {
        // Keys that differ in a few bits of the first, the 16th and the last byte only: leaves
        // split deep and at several depths, and new keys land on leaves, branches and empty sides.
        var generator = SplitMix(state: seed)
        func key(_ n: UInt64) -> [UInt8] {
            var bytes = [UInt8](repeating: 0xa5, count: 32)
            bytes[0] = UInt8(n & 0x03) << 6
            bytes[15] = UInt8(n >> 2 & 0x07)
            bytes[31] = UInt8(n >> 5 & 0x0f)
            return bytes
        }
        var reference = HeadsMap()
        var flat = FlatHeadsMap()
        for round in 0..<80 {
            var picked = Set<UInt64>()
            for _ in 0..<Int(generator.next() % 24 + 1) { picked.insert(generator.next() % 512) }
            let gained = try picked.map { n in
                (
                    key: key(n),
                    value: try HeadValue(
                        eventID: SHA256.hash(Array("\(seed) \(round) \(n)".utf8)),
                        count: generator.next() % 3 + 1,
                        index: UInt64(round)
                    )
                )
            }
            try Self.advance(&reference, &flat, gained, "seed \(seed), round \(round)")
        }
    }

    /// The batches a FuzzHeadsMap input encodes (Fuzz/Sources/FuzzHeadsMap): a header byte (its
    /// low five bits the number of updates less one), then four bytes per update — the first,
    /// one masked middle and the last byte of a key, and a count (0xff the largest).
    static func batches(_ bytes: [UInt8]) throws -> [[(key: [UInt8], value: HeadValue)]] {
        var input = bytes[...]
        var batches: [[(key: [UInt8], value: HeadValue)]] = []
        var index: UInt64 = 0
        while let header = input.popFirst() {
            var batch: [(key: [UInt8], value: HeadValue)] = []
            for _ in 0...Int(header & 0x1f) where input.count >= 4 {
                let update = Array(input.prefix(4))
                input = input.dropFirst(4)
                var key = [UInt8](repeating: 0x5a, count: 32)
                key[0] = update[0]
                key[Int(update[1] & 0x1f)] ^= update[1] & 0xe0 | 1
                key[31] = update[2]
                index += 1
                let count: UInt64 = update[3] == 0xff ? .max : UInt64(update[3] & 0x03) + 1
                batch.append(
                    (key, try HeadValue(eventID: SHA256.hash(Array("event \(index)".utf8)), count: count, index: index))
                )
            }
            if batch.isEmpty { break }
            batches.append(batch)
        }
        return batches
    }

    @Test("the FuzzHeadsMap corpus replayed: both maps refuse the same batches and agree after the others")
    func fuzzCorpus() throws {
        let folder = MapVectorTests.url.deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Tests/FuzzCorpus/FuzzHeadsMap")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(names.count > 50)
        for name in names {
            var reference = HeadsMap()
            var flat = FlatHeadsMap()
            for batch in try Self.batches([UInt8](Data(contentsOf: folder.appendingPathComponent(name)))) {
                let referenceRefused = (try? reference.advance(all: batch)) == nil
                let flatRefused = (try? flat.advance(all: batch.map { try Self.flat($0.key, $0.value) })) == nil
                #expect(referenceRefused == flatRefused, "\(name)")
                if referenceRefused { break }
                #expect(flat.root == reference.root && flat.count == reference.count, "\(name)")
            }
        }
    }

    @Test("seeded from a HeadsMap it holds the same heads, and moves on alike")
    func seeded() throws {
        var values: [(key: [UInt8], value: HeadValue)] = []
        for n in 0..<500 { values.append((productKey(n), try head(n))) }
        var reference = try HeadsMap(entries: values)
        var flat = try FlatHeadsMap(reference)
        #expect(flat.root == reference.root)
        #expect(flat.count == 500)
        let gained = try (250..<750).map { n in (key: productKey(n), value: try head(n + 1)) }
        try Self.advance(&reference, &flat, gained, "after the seed")
        #expect(try FlatHeadsMap(HeadsMap()).root == MapHash.empty)
    }

    @Test("an update hashes one leaf per key it moves and one branch per level above it, nothing else")
    func digestsPerUpdate() throws {
        // The benchmark's audit floor counts these digests as hashing any audit of the map must
        // do; a map that rehashed more than the paths it changed would inflate that floor.
        let keys = (0..<4_096).map(productKey)
        var flat = FlatHeadsMap()
        try flat.advance(all: keys.indices.map { try Self.flat(keys[$0], try head($0)) })
        #expect(flat.digestsComputed.leaves == keys.count)
        func bits(_ a: [UInt8], _ b: [UInt8]) -> Int {
            for byte in 0..<32 where a[byte] != b[byte] { return byte * 8 + (a[byte] ^ b[byte]).leadingZeroBitCount }
            return 256
        }
        for moved in [0, 1_000, 4_095] {
            let before = flat.digestsComputed
            try flat.advance(all: [try Self.flat(keys[moved], try head(moved + 10_000))])
            // The key's leaf sits one level below the longest prefix it shares with another key,
            // under one branch per level.
            let depth =
                1 + (try #require(keys.indices.filter { $0 != moved }.map { bits(keys[moved], keys[$0]) }.max()))
            #expect(flat.digestsComputed.leaves - before.leaves == 1, "key \(moved)")
            #expect(flat.digestsComputed.branches - before.branches == depth, "key \(moved)")
        }
    }

    @Test("a key twice in one update, a count of zero and a count that overflows are refused")
    func refusals() throws {
        let key = try #require(SHA256Digest(productKey(1)))
        let event = try #require(SHA256Digest(SHA256.hash(Array("e".utf8))))
        var flat = FlatHeadsMap()
        let one = try FlatHeadsMap.Head(key: key, eventID: event, count: 1, index: 1)
        #expect(throws: MapError.self) { try flat.advance(all: [one, one]) }
        #expect(throws: MapError.self) { _ = try FlatHeadsMap.Head(key: key, eventID: event, count: 0, index: 1) }
        try flat.advance(all: [try FlatHeadsMap.Head(key: key, eventID: event, count: .max, index: 1)])
        #expect(throws: MapError.self) { try flat.advance(all: [one]) }
    }
}
