import Foundation
import MerkleLog
import RetraceCrypto

/// Loads vector files that sit beside the tests, so the tests never read outside the repository.
enum VectorFile {
    static func url(_ name: String, file: StaticString = #filePath) -> URL {
        URL(fileURLWithPath: "\(file)").deletingLastPathComponent().appendingPathComponent("Vectors/\(name)")
    }

    /// The JSON files under `Vectors/<folder>`, as paths relative to `Vectors/`, sorted; empty if
    /// the folder is missing (the tests that use this also assert the count).
    static func jsonFiles(under folder: String) -> [String] {
        let root = url(folder).path
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        var files: [String] = []
        while let relative = walker.nextObject() as? String {
            if relative.hasSuffix(".json") { files.append("\(folder)/\(relative)") }
        }
        return files.sorted()
    }
}

/// The code of the `MerkleError` that `body` throws; `nil` when it returns normally or throws
/// something else, so a test can write `#expect(merkleErrorCode { … } == .rootMismatch)`.
func merkleErrorCode(_ body: () throws -> Void) -> MerkleError.Code? {
    do {
        try body()
        return nil
    } catch let error as MerkleError {
        return error.code
    } catch {
        return nil
    }
}

/// Whether `body` throws anything at all.
func throwsError(_ body: () throws -> Void) -> Bool {
    do {
        try body()
        return false
    } catch {
        return true
    }
}

/// SplitMix64: reproducible pseudo-random leaves, so a failure can be replayed.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random leaf hashes (hashes of random entries), the same on every run.
func randomLeafHashes(count: Int, seed: UInt64) -> [[UInt8]] {
    var generator = SeededGenerator(seed: seed)
    return (0..<count).map { _ in
        let length = Int.random(in: 0...40, using: &generator)
        let entry = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return SHA256.hash(prefix: 0x00, entry)
    }
}

/// RFC 9162 §2.1 written as literally as possible (recursive MTH, PATH, PROOF and SUBPROOF), with
/// SHA-256 called directly, as the independent reference the module is checked against.
enum Reference {
    static func mth(_ leaves: ArraySlice<[UInt8]>) -> [UInt8] {
        switch leaves.count {
        case 0: return SHA256.hash([UInt8]())
        case 1: return leaves[leaves.startIndex]
        default:
            let k = split(leaves.count)
            return SHA256.hash(prefix: 0x01, mth(leaves.prefix(k)), mth(leaves.dropFirst(k)))
        }
    }

    static func path(_ m: Int, _ leaves: ArraySlice<[UInt8]>) -> [[UInt8]] {
        guard leaves.count > 1 else { return [] }
        let k = split(leaves.count)
        if m < k {
            return path(m, leaves.prefix(k)) + [mth(leaves.dropFirst(k))]
        }
        return path(m - k, leaves.dropFirst(k)) + [mth(leaves.prefix(k))]
    }

    static func proof(_ m: Int, _ leaves: ArraySlice<[UInt8]>) -> [[UInt8]] {
        subproof(m, leaves, true)
    }

    static func subproof(_ m: Int, _ leaves: ArraySlice<[UInt8]>, _ complete: Bool) -> [[UInt8]] {
        if m == leaves.count { return complete ? [] : [mth(leaves)] }
        let k = split(leaves.count)
        if m <= k {
            return subproof(m, leaves.prefix(k), complete) + [mth(leaves.dropFirst(k))]
        }
        return subproof(m - k, leaves.dropFirst(k), false) + [mth(leaves.prefix(k))]
    }

    /// The largest power of two smaller than `n` (n > 1).
    static func split(_ n: Int) -> Int {
        var k = 1
        while k << 1 < n { k <<= 1 }
        return k
    }
}

/// A reader that counts its calls and the nodes asked for, around another reader.
final class CountingReader<Base: MerkleNodeReader>: MerkleNodeReader {
    let base: Base
    private(set) var calls = 0
    private(set) var requested: [NodeID] = []

    init(_ base: Base) { self.base = base }

    func hashes(of nodes: [NodeID]) throws -> [NodeID: [UInt8]] {
        calls += 1
        requested += nodes
        return try base.hashes(of: nodes)
    }
}

/// A storage stand-in: a plain dictionary of stored nodes, filled by applying `nodesToAppend`.
struct DictionaryStore: MerkleNodeReader {
    var nodes: [NodeID: [UInt8]] = [:]

    func hashes(of ids: [NodeID]) -> [NodeID: [UInt8]] {
        var found: [NodeID: [UInt8]] = [:]
        for id in ids { found[id] = nodes[id] }
        return found
    }
}
