import RetraceEvents
import RetraceIdentity

/// One scan a receiving dock performs after the demo story, with the verdict it must produce.
public struct DemoScan: Hashable, Sendable {
    /// Exactly what the scanner emitted (element strings with `]d2` and GS, Digital Link, `(01)…`, EPC URN).
    public let scan: String
    /// The identity the scan reads as (what `IdentityParser.parse(scan).sgtin` gives).
    public let product: SGTIN
    /// The party id of the dock: `litware` (the returns centre serving both retailers) or a retailer's own dock.
    public let dock: String
    /// The RMA number the parcel's paperwork claims, if any.
    public let claimedRMA: String?
    /// The salted order digest the customer's return claims, if any.
    public let claimedOrderDigest: Digest?
    /// When the scan happens (after the story's last event); verdicts about return windows are judged at this time.
    public let time: Timestamp
    /// The verdict code of the dock-verdict design (issue 4), e.g. `already-returned`.
    public let expectedVerdict: String
    /// One line: what happened to this item, in a dock worker's words.
    public let story: String
}
