/// A small seeded pseudo-random generator (SplitMix64, Steele, Lea & Flood 2014).
///
/// Simulations must be reproducible from a seed on every platform and Swift version, which the
/// system generator does not promise; SplitMix64 is tiny, fast and passes BigCrush, which is
/// plenty for choosing flows (it is not for keys or salts).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// A generator for one item of a run (a product, a cohort), independent of every other item
    /// and of the order in which items are generated, so parallel generation stays deterministic.
    public init(seed: UInt64, stream: UInt64) {
        var mixer = SplitMix64(seed: seed ^ (stream &* 0xD1B5_4A32_D192_ED03))
        state = mixer.next() ^ stream
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform double in [0, 1), from the top 53 bits.
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Whether an event of probability `probability` happens.
    public mutating func chance(_ probability: Double) -> Bool { unit() < probability }

    /// A uniform integer in `range` (tiny modulo bias, irrelevant for simulation).
    public mutating func int(in range: ClosedRange<Int>) -> Int {
        let width = UInt64(range.upperBound - range.lowerBound) + 1
        return range.lowerBound + Int(next() % width)
    }

    /// One of `weights.keys`-like choices, picked by weight; the first when all weights are zero.
    public mutating func pick<T>(_ choices: [(T, Double)]) -> T? {
        let total = choices.reduce(0) { $0 + max(0, $1.1) }
        guard let first = choices.first else { return nil }
        guard total > 0 else { return first.0 }
        var target = unit() * total
        for (choice, weight) in choices where weight > 0 {
            if target < weight { return choice }
            target -= weight
        }
        return choices.last(where: { $0.1 > 0 })?.0 ?? first.0
    }
}
