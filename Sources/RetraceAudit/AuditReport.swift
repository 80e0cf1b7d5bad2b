/// The outcome of one audit: what was checked, and every fact found false.
///
/// "Could not check" (an unreadable file, something that is not a ledger) is a thrown
/// ``AuditError``; a report only ever describes a ledger that was read to the end (or to the
/// first failure, unless the auditor keeps going).
public struct AuditReport: Sendable, Hashable {
    /// Entries read, parsed and judged (including those that failed).
    public var entriesChecked: UInt64
    /// Stored checkpoints whose signature verified and whose root matched the recomputed tree.
    public var checkpointsChecked: UInt64
    /// The number of leaves the auditor recomputed the tree over.
    public var treeSize: UInt64
    /// `MTH` of those leaves, as recomputed by the auditor (not read from storage).
    public var rootHash: [UInt8]
    /// The failures found, in log order of discovery, at most ``Auditor/failureCap``.
    public var failures: [AuditFailure]
    /// Whether more failures were found than are listed.
    public var failuresTruncated: Bool
    /// Checkpoints whose heads root (format.md §5.1) equalled the heads map recomputed from the entries.
    public var headsRootsChecked: UInt64

    public init(
        entriesChecked: UInt64 = 0,
        checkpointsChecked: UInt64 = 0,
        treeSize: UInt64 = 0,
        rootHash: [UInt8] = [],
        failures: [AuditFailure] = [],
        failuresTruncated: Bool = false,
        headsRootsChecked: UInt64 = 0
    ) {
        self.headsRootsChecked = headsRootsChecked
        self.entriesChecked = entriesChecked
        self.checkpointsChecked = checkpointsChecked
        self.treeSize = treeSize
        self.rootHash = rootHash
        self.failures = failures
        self.failuresTruncated = failuresTruncated
    }

    /// True when nothing was found false.
    public var passed: Bool { failures.isEmpty }
    /// The first failure found (the lowest log position the audit reached with a problem).
    public var firstFailure: AuditFailure? { failures.first }
}

/// One fact the auditor found false: where (log index, product), which rule, and why.
public struct AuditFailure: Sendable, Hashable, CustomStringConvertible {
    /// The log index of the bad entry, or for a checkpoint failure the first index it leaves
    /// unverified; `nil` for problems of the file as a whole (header, metadata).
    public let index: UInt64?
    /// The product (canonical Digital Link) the failure is about, or `"roster"`.
    public let product: String?
    /// A stable code from ``AuditRule``, e.g. `"A3 signature"`.
    public let rule: String
    /// What was wrong, where and what was expected.
    public let reason: String

    public init(index: UInt64?, product: String?, rule: String, reason: String) {
        self.index = index
        self.product = product
        self.rule = rule
        self.reason = reason
    }

    public var description: String {
        let at = index.map { "entry \($0)" } ?? "ledger"
        let about = product.map { " (\($0))" } ?? ""
        return "\(at)\(about): [\(rule)] \(reason)"
    }
}

/// The stable codes of the audit rules (spec/audit.md §3). The text after the number may be
/// shown to people; programs should compare the whole string.
public enum AuditRule {
    /// The entry is not canonical JSON of the entry format, or its statement is malformed.
    public static let entryFormat = "A1 entry-format"
    /// Batch members are malformed or do not hash to the batch root the statement signs.
    public static let batchMembers = "A2 batch-members"
    /// The signer is not a key of the roster in force at that position, or the signature fails.
    public static let signature = "A3 signature"
    /// A roster statement is not signed by governance, not chained, or not a valid roster.
    public static let roster = "A4 roster"
    /// `previous` is not the product's head, a second commission, or an event before commission.
    public static let chainLink = "A5 chain-link"
    /// A lifecycle rule (spec/lifecycle.md) refuses the event; the reason names the L/T rule.
    public static let lifecycle = "A6 lifecycle"
    /// A checkpoint's root differs from the root recomputed from the entries, or sits at the
    /// wrong position, or its stored size/root columns differ from its note.
    public static let checkpointRoot = "A7 checkpoint-root"
    /// A checkpoint note is malformed, not signed by the log key, or for another origin.
    public static let checkpointSignature = "A8 checkpoint-signature"
    /// `received` goes backwards along the log.
    public static let receivedOrder = "A9 received-order"
    /// A statement is dated more than the allowed skew after the log received it.
    public static let futureStatement = "A10 future-statement"
    /// Entries are missing, duplicated or out of order (index gaps, truncation, a tree size
    /// smaller than a checkpoint claims).
    public static let entrySequence = "A11 entry-sequence"
    /// Entries not covered by any signed checkpoint.
    public static let uncoveredEntries = "A12 uncovered-entries"
    /// The trusted checkpoint and the ledger's newest checkpoint are not consistent.
    public static let consistency = "A13 consistency"
    /// The stored `leaf_hash` column differs from the hash of the entry bytes.
    public static let storedLeafHash = "A14 stored-leaf-hash"
    /// Stored columns (event id, type, received) differ from the entry bytes.
    public static let storedColumns = "A15 stored-columns"
    /// A stored Merkle node is missing or differs from the recomputed one.
    public static let storedNodes = "A16 stored-nodes"
    /// Stored chain links (heads, sequence, derived state) differ from the replayed chains.
    public static let storedChainLinks = "A17 stored-chain-links"
    /// A stored product row (passport, GTIN, serial) differs from the commission.
    public static let storedProducts = "A18 stored-products"
    /// The export header or ledger metadata names other keys or another origin than the auditor trusts.
    public static let header = "A19 header"
    /// A checkpoint's heads root (its `retrace-heads/v1` line) differs from the heads map
    /// recomputed from the entries before it (spec/format.md §5.2).
    public static let headsRoot = "A20 heads-root"
}
