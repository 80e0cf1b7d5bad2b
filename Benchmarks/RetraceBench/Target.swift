/// One performance target of issue 15, judged against a figure measured in this run.
///
/// `value` is `nil` when the run did not measure the figure (a cached ledger was not generated, the
/// HTTP load was not asked for); such a target is never `met`, and `note` says why, so a script
/// comparing runs cannot mistake a missing figure for a passing one.
struct Target: Codable, Sendable, Equatable {
    /// How `value` must compare with `goal`.
    enum Comparison: String, Codable, Sendable {
        case atLeast = ">="
        case below = "<"
        case atMost = "<="

        func holds(_ value: Double, _ goal: Double) -> Bool {
            switch self {
            case .atLeast: value >= goal
            case .below: value < goal
            case .atMost: value <= goal
            }
        }
    }

    let name: String
    let value: Double?
    let goal: Double
    let comparison: Comparison
    /// `%`, `ms`, `bytes`, `/s` or `s`.
    let unit: String
    let met: Bool
    /// Where it was judged (ledger size) and anything a reader of the number must know.
    let note: String?

    /// `judged: false` reports a value that cannot decide the target (an estimate from a smaller
    /// run): it is printed, and `met` stays false whatever it is.
    init(
        _ name: String,
        value: Double?,
        _ comparison: Comparison,
        _ goal: Double,
        unit: String,
        note: String? = nil,
        judged: Bool = true
    ) {
        self.name = name
        self.value = value
        self.goal = goal
        self.comparison = comparison
        self.unit = unit
        self.met = judged && (value.map { comparison.holds($0, goal) } ?? false)
        self.note = note
    }

    private enum CodingKeys: String, CodingKey { case name, value, goal, comparison, unit, met, note }

    /// Writes `value` and `note` as JSON `null` when absent rather than leaving the keys out, so every
    /// target object has the same shape.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(value, forKey: .value)
        try container.encode(goal, forKey: .goal)
        try container.encode(comparison, forKey: .comparison)
        try container.encode(unit, forKey: .unit)
        try container.encode(met, forKey: .met)
        try container.encode(note, forKey: .note)
    }
}
