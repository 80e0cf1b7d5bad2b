import Foundation
import MerkleLog
import RetraceCrypto
import Testing

@Suite("RFC 9162 tree hashes")
struct MerkleHashTests {
    struct Roots: Decodable {
        let leafInputsHex: [String]
        let rootHashesHexBySize: [String]
    }

    /// The 8 leaf inputs of transparency-dev/merkle `testonly/constants.go`.
    static let fixedLeaves: [[UInt8]] = [
        "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ].map { Hex.decode($0) ?? [] }

    static func roots() throws -> Roots {
        try JSONDecoder().decode(Roots.self, from: Data(contentsOf: VectorFile.url("roots.json")))
    }

    @Test("the empty root is SHA-256 of nothing, and leaves and nodes carry their prefix bytes")
    func primitives() throws {
        #expect(Hex.encode(MerkleHash.emptyRoot) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(MerkleHash.leafHash([]) == SHA256.hash([0x00]))
        let a = MerkleHash.leafHash([1])
        let b = MerkleHash.leafHash([2])
        #expect(MerkleHash.nodeHash(a, b) == SHA256.hash([0x01] + a + b))
        #expect(MerkleHash.nodeHash(a, b) != MerkleHash.nodeHash(b, a))
        // The inline-digest form is the same hash.
        let left = try #require(SHA256Digest(a))
        let right = try #require(SHA256Digest(b))
        #expect(MerkleHash.nodeHash(left, right).bytes == SHA256.hash([0x01] + a + b))
    }

    @Test("roots of sizes 0 to 8 over the fixed leaves match roots.json, from store, frontier and reader")
    func knownRoots() throws {
        let roots = try Self.roots()
        #expect(roots.leafInputsHex.compactMap(Hex.decode) == Self.fixedLeaves)
        #expect(roots.rootHashesHexBySize.count == 9)
        var store = InMemoryMerkleStore()
        var range = CompactRange()
        #expect(Hex.encode(try store.rootHash()) == roots.rootHashesHexBySize[0])
        #expect(Hex.encode(range.rootHash) == roots.rootHashesHexBySize[0])
        for (index, leaf) in Self.fixedLeaves.enumerated() {
            store.append(entry: leaf)
            try range.append(entry: leaf)
            let expected = roots.rootHashesHexBySize[index + 1]
            #expect(Hex.encode(try store.rootHash()) == expected)
            #expect(Hex.encode(range.rootHash) == expected)
        }
        for size in 0...8 {
            let root = try MerkleTree.rootHash(size: UInt64(size), reader: store)
            #expect(Hex.encode(root) == roots.rootHashesHexBySize[size])
        }
    }
}
