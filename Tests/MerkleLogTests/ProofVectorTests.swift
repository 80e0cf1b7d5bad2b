import Foundation
import MerkleLog
import RetraceCrypto
import Testing

/// The transparency-dev/merkle `testdata/` proof cases (Apache-2.0), valid and deliberately broken.
@Suite("transparency-dev proof vectors")
struct ProofVectorTests {
    struct InclusionCase: Decodable {
        let leafIdx: UInt64
        let treeSize: UInt64
        let root: String
        let leafHash: String
        let proof: [String]?
        let desc: String
        let wantErr: Bool
    }

    struct ConsistencyCase: Decodable {
        let size1: UInt64
        let size2: UInt64
        let root1: String
        let root2: String
        let proof: [String]?
        let desc: String
        let wantErr: Bool
    }

    static let inclusionFiles = VectorFile.jsonFiles(under: "testdata/inclusion")
    static let consistencyFiles = VectorFile.jsonFiles(under: "testdata/consistency")

    /// The one case where this module deliberately differs from the data: it says two equal
    /// 12-byte "roots" at sizes 1 and 1 are consistent; ``MerkleProof`` refuses any hash that is not
    /// 32 bytes before looking at the sizes (see `equalSizesWithShortRoots`).
    static let refusedForHashLength: Set<String> = [
        "testdata/consistency/additional/sizes-are-equal-one-and-proof-is-empty.json"
    ]

    static func load<T: Decodable>(_ type: T.Type, _ file: String) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(contentsOf: VectorFile.url(file)))
    }

    static func bytes(_ base64: String) throws -> [UInt8] {
        try #require(Base64.decode(base64), "vector holds invalid base64 \"\(base64)\"")
    }

    @Test("all 196 vector files are found (98 inclusion, 98 consistency)")
    func filesAreFound() {
        #expect(Self.inclusionFiles.count == 98)
        #expect(Self.consistencyFiles.count == 98)
    }

    @Test("every inclusion case is accepted or rejected as the data says", arguments: inclusionFiles)
    func inclusion(file: String) throws {
        let vector = try Self.load(InclusionCase.self, file)
        let proof = try (vector.proof ?? []).map(Self.bytes)
        let leaf = try Self.bytes(vector.leafHash)
        let root = try Self.bytes(vector.root)
        let rejected = throwsError {
            try MerkleProof.verifyInclusion(
                leafHash: leaf,
                leafIndex: vector.leafIdx,
                treeSize: vector.treeSize,
                proof: proof,
                rootHash: root
            )
        }
        #expect(rejected == vector.wantErr, "\(vector.desc)")
    }

    @Test("every consistency case is accepted or rejected as the data says", arguments: consistencyFiles)
    func consistency(file: String) throws {
        let vector = try Self.load(ConsistencyCase.self, file)
        let proof = try (vector.proof ?? []).map(Self.bytes)
        let root1 = try Self.bytes(vector.root1)
        let root2 = try Self.bytes(vector.root2)
        let code = merkleErrorCode {
            try MerkleProof.verifyConsistency(
                size1: vector.size1,
                size2: vector.size2,
                proof: proof,
                root1: root1,
                root2: root2
            )
        }
        if Self.refusedForHashLength.contains(file) {
            #expect(!vector.wantErr)
            #expect(code == .invalidHashLength, "\(vector.desc)")
        } else {
            #expect((code != nil) == vector.wantErr, "\(vector.desc): \(String(describing: code))")
        }
    }

    @Test("equal sizes with equal 32-byte roots and no proof are consistent; 12-byte roots are refused")
    func equalSizesWithShortRoots() throws {
        let root = MerkleHash.leafHash([1, 2, 3])
        try MerkleProof.verifyConsistency(size1: 1, size2: 1, proof: [], root1: root, root2: root)
        let short = Array("don't care 2".utf8)
        #expect(
            merkleErrorCode {
                try MerkleProof.verifyConsistency(size1: 1, size2: 1, proof: [], root1: short, root2: short)
            } == .invalidHashLength
        )
    }

    @Test("the happy-path proofs are exactly the ones this module generates over the 8 fixed leaves")
    func happyPathsAreGenerated() throws {
        let store = try InMemoryMerkleStore(leafHashes: MerkleHashTests.fixedLeaves.map(MerkleHash.leafHash))
        var checked = 0
        for file in Self.inclusionFiles where file.hasSuffix("/happy-path.json") {
            let vector = try Self.load(InclusionCase.self, file)
            guard vector.treeSize <= store.size else { continue }
            #expect(try store.rootHash(size: vector.treeSize) == Self.bytes(vector.root), "\(file)")
            #expect(try store.leafHash(at: vector.leafIdx) == Self.bytes(vector.leafHash), "\(file)")
            let generated = try store.inclusionProof(leafIndex: vector.leafIdx, treeSize: vector.treeSize)
            #expect(try generated == (vector.proof ?? []).map(Self.bytes), "\(file)")
            checked += 1
        }
        for file in Self.consistencyFiles where file.hasSuffix("/happy-path.json") {
            let vector = try Self.load(ConsistencyCase.self, file)
            guard vector.size2 <= store.size else { continue }
            #expect(try store.rootHash(size: vector.size1) == Self.bytes(vector.root1), "\(file)")
            #expect(try store.rootHash(size: vector.size2) == Self.bytes(vector.root2), "\(file)")
            let generated = try store.consistencyProof(from: vector.size1, to: vector.size2)
            #expect(try generated == (vector.proof ?? []).map(Self.bytes), "\(file)")
            checked += 1
        }
        #expect(checked == 10)
    }
}
