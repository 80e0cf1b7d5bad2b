import Foundation
import RetraceCrypto
import VerifiableMap

/// Heads-map proof sizes and costs (spec/format.md §5.2–5.3).
///
/// Two ways, so each checks the other: a real ``HeadsMap`` built in memory (bulk build time,
/// update time, and the exact bytes of sampled proofs), and a shape-only count over the sorted
/// 64-bit key prefixes that needs 8 bytes per key, so 10^7 products fit in 80 MB. The shape of the
/// tree, hence every proof's size, depends only on the set of keys: each leaf's depth and its
/// non-empty siblings follow from the sorted keys alone.
enum MapBenchmark {
    static func run(sizes: [Int], fullUpTo: Int) throws {
        print("\n## Heads map: proof sizes (bytes) and costs; keys = SHA-256 of distinct Digital Links")
        print(
            "products      how      depth mean/max   member p50   member p99   member max   absent p99   build s   set µs one/1000   MiB"
        )
        for n in sizes {
            if n <= fullUpTo { try full(n) }
            try shape(n)
        }
    }

    static func keys(_ n: Int) -> [[UInt8]] {
        (0..<n).map { MapKey.product("https://id.gs1.org/01/09506000134352/21/B\($0)") }
    }

    /// The real map: built, updated, and proofs encoded.
    static func full(_ n: Int) throws {
        let before = Measure.residentKiB()
        let keys = keys(n)
        let value = try HeadValue(eventID: [UInt8](repeating: 1, count: 32), count: 3, index: 42)
        var map = HeadsMap()
        let build = try Measure.seconds { map = try HeadsMap(entries: keys.map { (key: $0, value: value) }) }
        let resident = Double(Measure.residentKiB() - before) / 1024
        let updates = min(n, 20_000)
        let later = try HeadValue(eventID: [UInt8](repeating: 2, count: 32), count: 4, index: 43)
        var copy = map
        let setSeconds = try Measure.seconds { for key in keys.prefix(updates) { try copy.set(key, later) } }
        // As the append path does it: a commit's keys (1,000 here) set in one pass.
        var batched = map
        let batchSeconds = try Measure.seconds {
            var start = 0
            while start < updates {
                let chunk = keys[start..<min(start + 1_000, updates)].map { (key: $0, value: later) }
                try batched.set(all: chunk)
                start += 1_000
            }
        }
        guard batched.root == copy.root else { throw BenchError("set(all:) and set gave different roots at \(n)") }
        var member: [Int] = []
        var depths: [Int] = []
        let sample = stride(from: 0, to: n, by: max(1, n / 20_000))
        for index in sample {
            let proof = try map.proof(keys[index])
            member.append(proof.bytes.count)
            depths.append(proof.siblings.count)
        }
        var absent: [Int] = []
        for index in 0..<2_000 {
            absent.append(
                try map.proof(MapKey.product("https://id.gs1.org/01/09506000134352/21/NONE\(index)")).bytes.count
            )
        }
        printRow(
            n,
            "map",
            depths,
            member,
            absent,
            build: Measure.format(build, 1),
            set: Measure.format(setSeconds / Double(updates) * 1e6, 1) + "/"
                + Measure.format(batchSeconds / Double(updates) * 1e6, 1),
            mib: Measure.format(resident, 0)
        )
    }

    /// Shape only, from sorted 64-bit prefixes (a collision of 64-bit prefixes among 10^7 keys has
    /// probability about 3·10^-6; it would make the count slightly wrong, never the real map).
    static func shape(_ n: Int) throws {
        var prefixes = [UInt64](repeating: 0, count: n)
        for index in 0..<n {
            let key = MapKey.product("https://id.gs1.org/01/09506000134352/21/B\(index)")
            prefixes[index] = key.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
        }
        prefixes.sort()
        var depths: [Int] = []
        var sizes: [Int] = []
        depths.reserveCapacity(n)
        sizes.reserveCapacity(n)
        // Walks the implicit tree; at each branch a key's sibling is non-empty iff the other side has keys.
        func walk(_ range: Range<Int>, depth: Int, nonEmpty: Int) {
            if range.count == 1 {
                depths.append(depth)
                sizes.append(3 + (depth + 7) / 8 + 32 * nonEmpty + HeadValue.byteCount)
                return
            }
            let bit = UInt64(1) << UInt64(63 - depth)
            var low = range.lowerBound
            var high = range.upperBound
            while low < high {
                let middle = (low + high) / 2
                if prefixes[middle] & bit != 0 { high = middle } else { low = middle + 1 }
            }
            let both = low > range.lowerBound && low < range.upperBound
            if low > range.lowerBound {
                walk(range.lowerBound..<low, depth: depth + 1, nonEmpty: nonEmpty + (both ? 1 : 0))
            }
            if low < range.upperBound {
                walk(low..<range.upperBound, depth: depth + 1, nonEmpty: nonEmpty + (both ? 1 : 0))
            }
        }
        walk(0..<n, depth: 0, nonEmpty: 0)
        printRow(n, "shape", depths, sizes, [], build: "-", set: "-", mib: Measure.format(Double(n * 8) / 1_048_576, 0))
    }

    static func printRow(
        _ n: Int,
        _ how: String,
        _ depths: [Int],
        _ member: [Int],
        _ absent: [Int],
        build: String,
        set: String,
        mib: String
    ) {
        let sorted = member.sorted()
        func at(_ values: [Int], _ q: Double) -> Int {
            values.isEmpty ? 0 : values[min(values.count - 1, Int(Double(values.count) * q))]
        }
        let mean = Double(depths.reduce(0, +)) / Double(max(1, depths.count))
        let columns = [
            pad(n, 10), how.padding(toLength: 6, withPad: " ", startingAt: 0),
            "\(Measure.format(mean, 1))/\(depths.max() ?? 0)".padding(toLength: 16, withPad: " ", startingAt: 0),
            pad(at(sorted, 0.5), 10), pad(at(sorted, 0.99), 12), pad(sorted.last ?? 0, 12),
            absent.isEmpty ? pad("-", 12) : pad(at(absent.sorted(), 0.99), 12), pad(build, 9), pad(set, 17),
            pad(mib, 5),
        ]
        print(columns.joined(separator: " "))
    }

    static func pad(_ value: some CustomStringConvertible, _ width: Int) -> String {
        let text = value.description
        return String(repeating: " ", count: max(0, width - text.count)) + text
    }
}
