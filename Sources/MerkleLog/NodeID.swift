/// A perfect subtree of the log: level `level`, position `index`, covering leaves
/// `[index · 2^level, (index + 1) · 2^level)`.
///
/// The ledger stores only these nodes. Once all its leaves exist a perfect subtree never changes,
/// so a stored row is written once and never updated; roots of other sizes and the hashes of
/// incomplete right-edge subtrees are combined from them on demand.
public struct NodeID: Hashable, Sendable, CustomStringConvertible {
    /// 0 for a leaf; at most 63, since a tree holds fewer than 2^64 leaves.
    public let level: Int
    public let index: UInt64

    public init(level: Int, index: UInt64) {
        self.level = level
        self.index = index
    }

    /// The index of the first leaf the node covers. (Smart shifts: never traps, even for an
    /// out-of-range level read from storage.)
    public var firstLeaf: UInt64 { index << level }

    /// How many leaves the node covers, `2^level` (0 for a level outside 0...63).
    public var leafCount: UInt64 { level >= 0 && level < 64 ? 1 << level : 0 }

    public var description: String { "(level \(level), index \(index))" }
}
