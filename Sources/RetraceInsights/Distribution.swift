/// Durations summarised by count, median and 90th percentile (nearest-rank: the smallest value
/// with at least p% of the values at or below it, so every figure is one observed duration).
public struct Distribution: Sendable, Hashable, Codable {
    public private(set) var values: [Int64] = []
    private var sorted = true

    public init() {}

    mutating func add(_ value: Int64) {
        if let last = values.last, value < last { sorted = false }
        values.append(value)
    }

    public var count: Int { values.count }

    /// The nearest-rank percentile `p` (1-100), `nil` when empty.
    public func percentile(_ p: Int) -> Int64? {
        guard !values.isEmpty else { return nil }
        let ordered = sorted ? values : values.sorted()
        let rank = max(1, (p * ordered.count + 99) / 100)
        return ordered[rank - 1]
    }
}
