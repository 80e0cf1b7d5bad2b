import RetraceEvents
import RetraceRules

/// The product class in force for a verified product: the newest `product-class` statement of
/// its GTIN up to the checkpoint, authenticated and judged, its chain proven complete by the
/// heads map.
public struct VerifiedProductClass: Sendable {
    /// What the brand owner says the GTIN is.
    public let details: ProductClassDetails
    /// The log index and id of the statement in force.
    public let index: UInt64
    public let id: Digest
    /// The brand owner that signed it.
    public let party: Party
    /// How many class statements the GTIN has up to the checkpoint (corrections included).
    public let statements: Int
}
