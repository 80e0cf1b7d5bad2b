/// Whether a recycler's recovered mass is plausible against the mass declared at commissioning.
///
/// Recovered material can never exceed what went in; scales and declarations differ a little, so
/// the upper bound allows 2 % plus 5 g. Recovering less than 10 % of a device's mass means most of
/// it never reached the recycler (the unit was resold, or the certificate covers other goods), so
/// that is implausible too. spec/verification.md §5 states these bounds.
public enum MassBalance {
    public enum Result: String, Codable, Hashable, Sendable {
        case plausible
        case tooHigh = "too-high"
        case tooLow = "too-low"
        /// No declared mass to compare with.
        case unchecked
    }

    public static let upperPercent: Int64 = 102
    public static let upperSlackGrams: Int64 = 5
    public static let lowerPercent: Int64 = 10

    public static func check(recovered: Int64, declared: Int64?) -> Result {
        guard let declared, declared > 0 else { return .unchecked }
        if recovered * 100 > declared * upperPercent + upperSlackGrams * 100 { return .tooHigh }
        if recovered * 100 < declared * lowerPercent { return .tooLow }
        return .plausible
    }
}
