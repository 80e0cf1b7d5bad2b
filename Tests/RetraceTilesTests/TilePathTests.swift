import MerkleLog
import Testing

@Suite("C2SP tlog-tiles: paths, tile sets, tile bytes and proofs from tiles")
struct TilePathTests {
    @Test(
        "Tile indices are spelled in 3-digit groups, all but the last prefixed x (C2SP's own example)",
        arguments: [
            (UInt64(0), "000"), (5, "005"), (999, "999"), (1000, "x001/000"), (1_234_067, "x001/x234/067"),
            (UInt64.max, "x018/x446/x744/x073/x709/x551/615"),
        ]
    )
    func indexSpelling(index: UInt64, expected: String) throws {
        #expect(Tile.encodeIndex(index) == expected)
        let tile = Tile(kind: .hashes(level: 0), index: index, width: 256)
        #expect(tile.path == "tile/0/" + expected)
        #expect(try Tile.parse(path: tile.path) == tile)
    }

    @Test("Partial tiles carry their width; entry bundles live under tile/entries")
    func partialAndEntries() throws {
        let partial = Tile(kind: .hashes(level: 2), index: 1_234_067, width: 13)
        #expect(partial.path == "tile/2/x001/x234/067.p/13")
        #expect(try Tile.parse(path: partial.path) == partial)
        let bundle = Tile(kind: .entries, index: 7, width: 255)
        #expect(bundle.path == "tile/entries/007.p/255")
        #expect(try Tile.parse(path: bundle.path) == bundle)
        #expect(try Tile.parse(path: "tile/entries/x001/000") == Tile(kind: .entries, index: 1000, width: 256))
    }

    @Test(
        "Every other spelling of a tile is refused, so one tile never has two cacheable paths",
        arguments: [
            "tile/0/5", "tile/0/0005", "tile/00/005", "tile/0/001/000", "tile/0/x001", "tile/0/005.p/0",
            "tile/0/005.p/256", "tile/0/005.p/07", "tile/64/000", "tile/-1/000", "tile/0/", "tile/0/x1000/000",
            "tiles/0/000", "tile/data/000", "tile/0/000/", "tile/0/x019/x446/x744/x073/x709/x551/615",
            "tile/0/005.p/", "tile/0/abc",
        ]
    )
    func refusesNonCanonical(path: String) {
        #expect(throws: MerkleError(.malformedTilePath, "")) { try Tile.parse(path: path) }
    }

    @Test("The tiles of a tree: full tiles, one partial per level, and a level above a full level of 256")
    func tileSets() {
        #expect(Tile.hashTiles(treeSize: 0).isEmpty)
        #expect(Tile.hashTiles(treeSize: 1).map(\.path) == ["tile/0/000.p/1"])
        #expect(Tile.hashTiles(treeSize: 256).map(\.path) == ["tile/0/000", "tile/1/000.p/1"])
        #expect(
            Tile.hashTiles(treeSize: 70_000).map(\.path) == (0..<UInt64(273)).map { "tile/0/\(Tile.encodeIndex($0))" }
                + ["tile/0/273.p/112", "tile/1/000", "tile/1/001.p/17", "tile/2/000.p/1"]
        )
        // Extending from 300 to 520 rewrites the partial level-0 tile 1 and adds tile 2; level 1 grows from 1 to 2.
        #expect(
            Tile.hashTiles(treeSize: 520, since: 300).map(\.path) == [
                "tile/0/001", "tile/0/002.p/8", "tile/1/000.p/2",
            ]
        )
        #expect(Tile.hashTiles(treeSize: 512, since: 512).isEmpty)
        #expect(Tile.entryTiles(treeSize: 513, since: 256).map(\.path) == ["tile/entries/001", "tile/entries/002.p/1"])
    }

    @Test("Entry bundles: 16-bit big-endian lengths; a short, long or over-full bundle is refused")
    func entryBundles() throws {
        let entries: [[UInt8]] = [Array("a".utf8), [], Array(repeating: 7, count: 300)]
        let bytes = try TileData.encodeEntries(entries)
        #expect(Array(bytes.prefix(5)) == [0, 1, 0x61, 0, 0])
        #expect(bytes[5...6] == [1, 44])
        let tile = Tile(kind: .entries, index: 0, width: 3)
        #expect(try TileData.decodeEntries(bytes, tile: tile) == entries)
        #expect(throws: MerkleError(.malformedTile, "")) {
            try TileData.decodeEntries(Array(bytes.dropLast()), tile: tile)
        }
        #expect(throws: MerkleError(.malformedTile, "")) {
            try TileData.decodeEntries(bytes, tile: Tile(kind: .entries, index: 0, width: 2))
        }
        #expect(throws: MerkleError(.malformedTile, "")) {
            try TileData.encodeEntries([Array(repeating: 0, count: 65_536)])
        }
    }

    @Test("Roots and proofs computed from tiles equal those from the full tree, at sizes around tile edges")
    func proofsFromTiles() throws {
        let leaves = (0..<70_100).map { MerkleHash.leafHash(Array("leaf \($0)".utf8)) }
        var store = InMemoryMerkleStore()
        for hash in leaves { try store.append(leafHash: hash) }
        for size in [1, 2, 255, 256, 257, 511, 65_535, 65_536, 65_537, 70_100] as [UInt64] {
            let reader = TileNodeReader(treeSize: size) { tile in
                try TileData.encodeHashes(tile.nodes.map { try #require(store.hashes(of: [$0])[$0]) })
            }
            let root = try MerkleTree.rootHash(size: size, reader: store)
            #expect(try MerkleTree.rootHash(size: size, reader: reader) == root, "size \(size)")
            for index in Set([0, size / 2, size - 1]) {
                let proof = try MerkleTree.inclusionProof(leafIndex: index, treeSize: size, reader: reader)
                #expect(proof == (try MerkleTree.inclusionProof(leafIndex: index, treeSize: size, reader: store)))
                try MerkleProof.verifyInclusion(
                    leafHash: leaves[Int(index)],
                    leafIndex: index,
                    treeSize: size,
                    proof: proof,
                    rootHash: root
                )
            }
            if size > 1 {
                let proof = try MerkleTree.consistencyProof(from: size / 2, to: size, reader: reader)
                #expect(proof == (try MerkleTree.consistencyProof(from: size / 2, to: size, reader: store)))
            }
        }
    }

    @Test("A tile with a wrong hash gives a proof that fails against the signed root, never a passing one")
    func wrongTileFailsProof() throws {
        let leaves = (0..<600).map { MerkleHash.leafHash(Array("leaf \($0)".utf8)) }
        var store = InMemoryMerkleStore()
        for hash in leaves { try store.append(leafHash: hash) }
        let root = try MerkleTree.rootHash(size: 600, reader: store)
        let reader = TileNodeReader(treeSize: 600) { tile in
            var bytes = try TileData.encodeHashes(tile.nodes.map { try #require(store.hashes(of: [$0])[$0]) })
            if tile.path == "tile/1/000.p/2" { bytes[32] ^= 1 }  // the subtree of leaves 256…511
            return bytes
        }
        let proof = try MerkleTree.inclusionProof(leafIndex: 3, treeSize: 600, reader: reader)
        #expect(throws: MerkleError(.rootMismatch, "")) {
            try MerkleProof.verifyInclusion(
                leafHash: leaves[3],
                leafIndex: 3,
                treeSize: 600,
                proof: proof,
                rootHash: root
            )
        }
    }
}
