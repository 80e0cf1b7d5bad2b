import CanonicalJSON
import MerkleLog
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceLedger
import RetraceStorage
import VerifiableMap

/// Gathers a product's (or a certificate's) evidence from a ledger store into a ``ProofBundle``.
///
/// Gathering trusts nothing it reads: the result is always handed to ``EvidenceVerifier``, so a
/// tampered database shows up as a bundle that does not verify. Proofs are against the latest
/// signed checkpoint; events appended after it are not yet covered and are left out.
/// Reads are O(events · log n) node reads, plus O(members) hashing per batch statement.
public enum EvidenceCollector {
    /// The bundle of one product, or `nil` if the ledger has no chain for it below the checkpoint.
    ///
    /// When the checkpoint commits to a heads root, the bundle is v2: it carries the head proofs,
    /// taken from `heads` (the map over the checkpoint's entries).
    public static func productBundle(
        _ product: SGTIN,
        reader: any LedgerReader,
        heads: HeadsIndex = HeadsIndex()
    ) throws(VerificationError) -> ProofBundle? {
        try productBundle(product, reader: reader, heads: heads, form: .decoded)
    }

    /// How gathered entries are kept: decoded, for a bundle that is written out or served; or
    /// as the stored bytes, for a verdict judged in this process (see ``BundleEntry/entry``).
    enum EntryForm {
        case decoded
        case undecoded
    }

    static func productBundle(
        _ product: SGTIN,
        reader: any LedgerReader,
        heads: HeadsIndex,
        form: EntryForm
    ) throws(VerificationError) -> ProofBundle? {
        do {
            let checkpoint = try latest(reader)
            guard let chain = try chain(of: product.digitalLink, reader: reader, size: checkpoint.size, form: form)
            else {
                return nil
            }
            let map = try headsMap(checkpoint, reader: reader, heads: heads)
            return ProofBundle(
                checkpoint: checkpoint.note,
                roster: try roster(reader, size: checkpoint.size, form: form),
                products: [try withHead(chain, map)],
                rosterHead: try map?.proof(MapKey.roster),
                productClass: try map.map { map in
                    try classChain(
                        gtin: product.gtin.digits,
                        reader: reader,
                        size: checkpoint.size,
                        map: map,
                        form: form
                    )
                }
            )
        } catch let error as VerificationError {
            throw error
        } catch {
            throw VerificationError(.storage, "reading the evidence of \(product.digitalLink): \(error)")
        }
    }

    /// The roster chain up to the latest checkpoint, each entry with its inclusion proof: what a
    /// client needs to know who is trusted (and the roster head to sign the next roster on).
    public static func rosterBundle(reader: any LedgerReader) throws(VerificationError) -> ProofBundle {
        do {
            let checkpoint = try latest(reader)
            return ProofBundle(
                checkpoint: checkpoint.note,
                roster: try roster(reader, size: checkpoint.size),
                products: []
            )
        } catch let error as VerificationError {
            throw error
        } catch {
            throw VerificationError(.storage, "reading the roster: \(error)")
        }
    }

    /// The class bundle of `gtin`: the roster and the GTIN's class chain up to the latest
    /// checkpoint, with both head proofs, so a client learns the class in force (and the head to
    /// sign a correction on) without taking the service's word for it.
    ///
    /// - Throws: `not-found` when the latest checkpoint commits to no heads map (nothing could
    ///   prove the chain complete).
    public static func classBundle(
        gtin: String,
        reader: any LedgerReader,
        heads: HeadsIndex = HeadsIndex()
    ) throws(VerificationError) -> ProofBundle {
        do {
            let checkpoint = try latest(reader)
            guard let map = try headsMap(checkpoint, reader: reader, heads: heads) else {
                throw VerificationError(
                    .notFound,
                    "checkpoint \(checkpoint.size) commits to no heads map: no product class can be proven"
                )
            }
            return ProofBundle(
                checkpoint: checkpoint.note,
                roster: try roster(reader, size: checkpoint.size),
                products: [],
                rosterHead: try map.proof(MapKey.roster),
                productClass: try classChain(gtin: gtin, reader: reader, size: checkpoint.size, map: map)
            )
        } catch let error as VerificationError {
            throw error
        } catch {
            throw VerificationError(.storage, "reading the class chain of \(gtin): \(error)")
        }
    }

    /// The bundle of a batch statement (a recycler's pallet certificate) at log index `index`, with
    /// the chain of every member.
    public static func certificateBundle(
        at index: UInt64,
        reader: any LedgerReader,
        heads: HeadsIndex = HeadsIndex()
    ) throws(VerificationError) -> ProofBundle {
        do {
            let checkpoint = try latest(reader)
            guard index < checkpoint.size, let stored = try reader.entry(at: index), !stored.members.isEmpty else {
                throw VerificationError(.notFound, "entry \(index) is not a batch statement covered by the checkpoint")
            }
            let members = try BatchMember.parsing(stored.members)
            let certificate = BundleEntry(
                index: index,
                body: try body(stored.bytes, form: .decoded),
                proof: try MerkleNodeCache.inclusionProof(leaf: index, size: checkpoint.size, reader: reader),
                members: members
            )
            var chains: [ProofBundle.Chain] = []
            for member in members {
                guard
                    let chain = try chain(
                        of: member.product.digitalLink,
                        reader: reader,
                        size: checkpoint.size,
                        form: .decoded
                    )
                else {
                    throw VerificationError(
                        .notFound,
                        "member \(member.product.digitalLink) has no chain",
                        index: index
                    )
                }
                chains.append(chain)
            }
            let map = try headsMap(checkpoint, reader: reader, heads: heads)
            return ProofBundle(
                checkpoint: checkpoint.note,
                roster: try roster(reader, size: checkpoint.size),
                products: try chains.map { try withHead($0, map) },
                certificate: certificate,
                rosterHead: try map?.proof(MapKey.roster)
            )
        } catch let error as VerificationError {
            throw error
        } catch {
            throw VerificationError(.storage, "reading certificate entry \(index): \(error)", index: index)
        }
    }

    /// Finds recycle statements by certificate number by scanning the whole log, O(n): for one-shot
    /// callers; a long-lived ``Verifier`` keeps a ``CertificateIndex`` instead.
    public static func recycleEntries(
        certificate: String,
        reader: any LedgerReader
    ) throws(VerificationError)
        -> [UInt64]
    {
        do {
            var found: [UInt64] = []
            try reader.forEachEntry(from: 0, to: try reader.treeSize()) { stored in
                if recycleCertificate(stored) == certificate { found.append(stored.index) }
            }
            return found
        } catch {
            throw VerificationError(.storage, "scanning for certificate \(certificate): \(error)")
        }
    }

    /// The certificate number a stored recycle statement carries; `nil` for any other entry.
    static func recycleCertificate(_ stored: StoredEntry) -> String? {
        guard stored.type == EventType.recycle.name,
            case .object(let entry)? = try? CanonicalJSON.decode(stored.bytes)
        else { return nil }
        return entry["statement"]?["details"]?["certificate"]?.stringValue
    }

    /// The proof that `product` has no chain up to the latest checkpoint, with that checkpoint's
    /// note; `nil` proof for a checkpoint that commits to no heads (absence then rests on the
    /// database alone). Throws when the map holds the product: its rows are missing.
    public static func absence(
        _ product: SGTIN,
        reader: any LedgerReader,
        heads: HeadsIndex = HeadsIndex()
    )
        throws(VerificationError) -> (checkpoint: String, proof: MapProof?)
    {
        do {
            let checkpoint = try latest(reader)
            guard let map = try headsMap(checkpoint, reader: reader, heads: heads) else {
                return (checkpoint.note, nil)
            }
            let proof = try map.proof(MapKey.product(product.digitalLink))
            guard !proof.isMembership else {
                throw VerificationError(
                    .ledgerIntegrityFailure,
                    "checkpoint \(checkpoint.size) commits to a chain of \(product.digitalLink), but the database has none"
                )
            }
            return (checkpoint.note, proof)
        } catch let error as VerificationError {
            throw error
        } catch {
            throw VerificationError(.storage, "proving \(product.digitalLink) absent: \(error)")
        }
    }

    // MARK: Pieces

    /// The heads map over the checkpoint's entries, when the checkpoint commits to one.
    static func headsMap(_ stored: StoredCheckpoint, reader: any LedgerReader, heads: HeadsIndex) throws -> HeadsMap? {
        guard let note = try? SignedNote(parsing: stored.note), let checkpoint = try? Checkpoint(parsing: note.text),
            checkpoint.headsRoot != nil
        else { return nil }
        return try heads.map(at: stored.size, reader: reader)
    }

    static func withHead(_ chain: ProofBundle.Chain, _ map: HeadsMap?) throws -> ProofBundle.Chain {
        guard let map else { return chain }
        return ProofBundle.Chain(
            product: chain.product,
            events: chain.events,
            head: try map.proof(MapKey.product(chain.product))
        )
    }

    static func latest(_ reader: any LedgerReader) throws -> StoredCheckpoint {
        guard let checkpoint = try reader.latestCheckpoint() else {
            throw VerificationError(.notFound, "the ledger has no signed checkpoint yet")
        }
        return checkpoint
    }

    /// A stored entry as a bundle carries it. Decoded, with its bytes when they are canonical (as
    /// the ledger writes them); bytes that are not are read leniently and written again by the
    /// verifier, as any bundle's are. Undecoded, the bytes as they are.
    static func body(_ bytes: [UInt8], form: EntryForm) throws -> BundleEntry.Body {
        if form == .undecoded { return .undecoded(bytes) }
        if let (value, span) = try? CanonicalJSON.decode(bytes, options: .strict, spanOf: "statement"),
            case .object(let object) = value
        {
            return .object(object, canonical: span.map { .init(bytes: bytes, statement: $0) })
        }
        guard case .object(let object) = try CanonicalJSON.decode(bytes, options: .lenient) else {
            throw VerificationError(.malformedBundle, "a stored entry is not a JSON object")
        }
        return .object(object, canonical: nil)
    }

    static func roster(_ reader: any LedgerReader, size: UInt64, form: EntryForm = .decoded) throws -> [BundleEntry] {
        try linked(Ledger.rosterChain, reader: reader, size: size).map { link, stored, proof in
            BundleEntry(index: link.index, body: try body(stored.bytes, form: form), proof: proof)
        }
    }

    /// The links of `chain` below `size`, each with its stored entry (read in one call) and its
    /// inclusion proof (built together); refused when an entry is missing or is not the event its
    /// link names.
    static func linked(
        _ chain: String,
        reader: any LedgerReader,
        size: UInt64
    ) throws -> [(link: ChainLink, stored: StoredEntry, proof: [[UInt8]])] {
        let links = try reader.chain(chain).filter { $0.index < size }
        guard !links.isEmpty else { return [] }
        let proofs = try MerkleNodeCache.inclusionProofs(leaves: links.map(\.index), size: size, reader: reader)
        let read = try reader.entries(at: links.map(\.index))
        return try zip(links, proofs).map { link, proof in
            guard let stored = read[link.index] else {
                throw VerificationError(.storage, "entry \(link.index) of \(chain) is missing", index: link.index)
            }
            guard stored.eventID == link.eventID else {
                throw VerificationError(
                    .ledgerIntegrityFailure,
                    "the chain row of \(chain) at log index \(link.index) names event "
                        + "\(Hex.encode(link.eventID.prefix(6))), but that entry is \(Hex.encode(stored.eventID.prefix(6)))",
                    index: link.index
                )
            }
            return (link, stored, proof)
        }
    }

    static func chain(
        of product: String,
        reader: any LedgerReader,
        size: UInt64,
        form: EntryForm
    ) throws -> ProofBundle.Chain? {
        let links = try linked(product, reader: reader, size: size)
        guard !links.isEmpty else { return nil }
        var events: [BundleEntry] = []
        var previous: [UInt8]?
        for (link, stored, proof) in links {
            // A batch statement is carried with one member, not the members its bytes commit to,
            // and is read from its object: kept decoded.
            let body = try body(stored.bytes, form: stored.members.isEmpty ? form : .decoded)
            if stored.members.isEmpty {
                events.append(BundleEntry(index: link.index, body: body, proof: proof))
            } else {
                let position = try memberPosition(stored.members, product: product, previous: previous)
                let member = try BatchMember(json: CanonicalJSON.decode(stored.members[position]), path: "member")
                let tree = try InMemoryMerkleStore(leafHashes: stored.members.map { MerkleHash.leafHash($0) })
                events.append(
                    BundleEntry(
                        index: link.index,
                        body: body,
                        proof: proof,
                        member: member,
                        memberIndex: UInt64(position),
                        memberProof: try tree.inclusionProof(leafIndex: UInt64(position))
                    )
                )
            }
            previous = link.eventID
        }
        return ProofBundle.Chain(product: product, events: events)
    }

    /// The class chain of `gtin` below `size` (possibly empty) with its head proof from `map`.
    static func classChain(
        gtin: String,
        reader: any LedgerReader,
        size: UInt64,
        map: HeadsMap,
        form: EntryForm = .decoded
    ) throws
        -> ProofBundle.ClassChain
    {
        let entries = try linked(Statement.classChain(gtin: gtin), reader: reader, size: size).map {
            link,
            stored,
            proof in
            BundleEntry(index: link.index, body: try body(stored.bytes, form: form), proof: proof)
        }
        return ProofBundle.ClassChain(gtin: gtin, entries: entries, head: try map.proof(MapKey.productClass(gtin)))
    }

    /// The member of `product`: found by its exact bytes when the previous link is known, else by decoding.
    private static func memberPosition(_ members: [[UInt8]], product: String, previous: [UInt8]?) throws -> Int {
        if let previous, let sgtin = try? IdentityParser.parse(product).sgtin, let digest = try? Digest(bytes: previous)
        {
            let expected = BatchMember(product: sgtin, previous: digest).canonicalBytes
            if let position = members.firstIndex(of: expected) { return position }
        }
        for (position, bytes) in members.enumerated() {
            if case .object(let object) = try CanonicalJSON.decode(bytes, options: .lenient),
                object["product"]?.stringValue == product
            {
                return position
            }
        }
        throw VerificationError(.chainBroken, "the batch statement has no member \(product)")
    }
}
