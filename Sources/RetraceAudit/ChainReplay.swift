import MerkleLog
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceRules
import RetraceStorage

/// Replays one product's (or product class's) stored chain link by link, re-deriving everything from the entries.
///
/// Nothing stored is believed: each link's entry is re-read and parsed, optionally proven included
/// in a trusted root, re-authenticated under the roster in force at its index, re-linked to the
/// previous link and re-judged by the lifecycle rules; a stored derived state must equal the replayed one.
/// Used to load a product's state at the trusted size (incremental audit) and to name the first
/// bad link when a stored chain differs from the streamed one.
struct ChainReplay {
    let key: String
    let reader: any LedgerReader
    let rosterHistory: [(index: UInt64, trust: TrustState)]
    /// `(size, root)` of a trusted checkpoint every replayed entry must be included in.
    let inclusion: (size: UInt64, root: [UInt8])?
    private(set) var head: ChainHead?

    init(
        key: String,
        reader: any LedgerReader,
        rosterHistory: [(index: UInt64, trust: TrustState)],
        inclusion: (size: UInt64, root: [UInt8])?
    ) {
        self.key = key
        self.reader = reader
        self.rosterHistory = rosterHistory
        self.inclusion = inclusion
    }

    /// Applies one stored link; returns the first problem found, or `nil` when it holds.
    mutating func step(_ link: ChainLink) throws -> AuditFailure? {
        func problem(_ rule: String, _ reason: String) -> AuditFailure {
            AuditFailure(index: link.index, product: key, rule: rule, reason: reason)
        }
        let sequence = (head?.sequence ?? -1) + 1
        guard link.sequence == sequence else {
            return problem(
                AuditRule.storedChainLinks,
                "stored link has sequence \(link.sequence), expected \(sequence)"
            )
        }
        if let head, link.index <= head.lastIndex {
            return problem(AuditRule.storedChainLinks, "stored links are not in log order")
        }
        guard let stored = try reader.entry(at: link.index) else {
            return problem(AuditRule.entrySequence, "the link names entry \(link.index), which is not stored")
        }
        if let inclusion {
            guard link.index < inclusion.size else {
                return problem(
                    AuditRule.consistency,
                    "entry \(link.index) is beyond the trusted size \(inclusion.size)"
                )
            }
            do {
                let proof = try MerkleTree.inclusionProof(
                    leafIndex: link.index,
                    treeSize: inclusion.size,
                    reader: reader
                )
                try MerkleProof.verifyInclusion(
                    leafHash: MerkleHash.leafHash(stored.bytes),
                    leafIndex: link.index,
                    treeSize: inclusion.size,
                    proof: proof,
                    rootHash: inclusion.root
                )
            } catch {
                return problem(
                    AuditRule.consistency,
                    "entry \(link.index) is not included in the trusted checkpoint of size \(inclusion.size): \(error)"
                )
            }
        }
        let entry: LogEntry
        do {
            entry = try LogEntry(parsing: stored.bytes, members: BatchMember.parsing(stored.members))
        } catch {
            return problem(AuditRule.entryFormat, "the entry does not parse strictly: \(error)")
        }
        let signed = entry.signed
        let statement = signed.statement
        guard statement.id.bytes == link.eventID else {
            return problem(
                AuditRule.storedChainLinks,
                "the link's event id differs from entry \(link.index)'s statement"
            )
        }
        if let gtin = statement.classGTIN {
            return stepClass(link, signed: signed, gtin: gtin)
        }
        let previous: Digest?
        let product: SGTIN
        if let own = statement.product, own.digitalLink == key {
            previous = statement.previous
            product = own
        } else if let member = signed.members.first(where: { $0.product.digitalLink == key }) {
            previous = member.previous
            product = member.product
        } else {
            return problem(AuditRule.storedChainLinks, "entry \(link.index) is not about this product")
        }
        if let head {
            guard previous?.bytes == head.eventID else {
                return problem(AuditRule.chainLink, "C1 chain-head: previous is not the preceding link's event")
            }
        } else if statement.type != .commission {
            return problem(AuditRule.chainLink, "L1 commissioned-first: the chain does not start with a commission")
        }
        guard let trust = rosterHistory.last(where: { $0.index < link.index })?.trust else {
            return problem(AuditRule.signature, "no roster was in force at entry \(link.index)")
        }
        let state: ProductState
        do {
            let party = try trust.authenticate(signed)
            do {
                state = try Lifecycle.apply(
                    statement,
                    product: product,
                    eventID: statement.id,
                    state: head?.state,
                    signer: party,
                    trust: trust
                )
            } catch {
                return problem(AuditRule.lifecycle, "\(error.rule): \(error.reason)")
            }
        } catch {
            return problem(AuditRule.signature, "\(error.rule): \(error.reason)")
        }
        // Only a chain's head stores its state (schema 2; a schema 1 ledger stores one at every
        // link): a stored state must be the replayed one; an empty one is a superseded link's.
        if !link.state.isEmpty {
            guard try state.canonicalBytes() == link.state else {
                return problem(AuditRule.storedChainLinks, "the stored derived state differs from the replayed state")
            }
        }
        advance(link, sequence: sequence, state: state)
        return nil
    }

    /// A link of a GTIN's class chain: a `product-class` statement for this GTIN, linked to the
    /// previous link, authenticated and judged; its stored state is empty.
    private mutating func stepClass(
        _ link: ChainLink,
        signed: SignedStatement,
        gtin: String
    ) -> AuditFailure? {
        let key = self.key
        func problem(_ rule: String, _ reason: String) -> AuditFailure {
            AuditFailure(index: link.index, product: key, rule: rule, reason: reason)
        }
        let statement = signed.statement
        guard Statement.classChain(gtin: gtin) == key else {
            return problem(AuditRule.storedChainLinks, "entry \(link.index) is not about this product class")
        }
        guard statement.previous?.bytes == head?.eventID else {
            return problem(AuditRule.chainLink, "C1 chain-head: previous is not the preceding link's event")
        }
        guard let trust = rosterHistory.last(where: { $0.index < link.index })?.trust else {
            return problem(AuditRule.signature, "no roster was in force at entry \(link.index)")
        }
        do {
            let party = try trust.authenticate(signed)
            do { _ = try Lifecycle.judgeClass(statement, signer: party) } catch {
                return problem(AuditRule.lifecycle, "\(error.rule): \(error.reason)")
            }
        } catch {
            return problem(AuditRule.signature, "\(error.rule): \(error.reason)")
        }
        guard link.state.isEmpty else {
            return problem(AuditRule.storedChainLinks, "a class chain link stores a state; it has none")
        }
        advance(link, sequence: (head?.sequence ?? -1) + 1, state: nil)
        return nil
    }

    private mutating func advance(_ link: ChainLink, sequence: Int64, state: ProductState?) {
        head = ChainHead(
            eventID: link.eventID,
            sequence: sequence,
            state: state,
            linkDigest: AuditEngine.linkDigest(head?.linkDigest ?? [], sequence, link.index),
            lastIndex: link.index,
            commissionIndex: head?.commissionIndex ?? link.index
        )
    }
}
