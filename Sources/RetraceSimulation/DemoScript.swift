import RetraceEvents
import RetraceIdentity

/// What the demo does after playing the story: the dock scans, and the products and certificate to show.
public struct DemoScript: Sendable {
    /// The scans to perform, genuine returns and every planted fraud class.
    public let scans: [DemoScan]
    /// A refurbished, certified pre-owned phone: the product whose history and bundle to show.
    public let showcase: SGTIN
    /// The number of the pallet recycling certificate (one batch statement covering several items).
    public let recyclingCertificate: String
    /// The items that certificate covers.
    public let recycledProducts: [SGTIN]
    /// Every product commissioned by the story.
    public let products: [SGTIN]
    /// How many statements the story appended (the first roster not included).
    public let statementCount: Int
    /// The time of the story's first and last statements.
    public let start: Timestamp
    public let end: Timestamp
}
