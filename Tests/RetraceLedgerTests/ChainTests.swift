import CanonicalJSON
import RetraceCrypto
import RetraceEvents
import RetraceLedger
import RetraceStorage
import Testing

/// Which chains a statement extends (spec/format.md §3, §5.2): the append, the heads map and the
/// audit all read it from `SignedStatement.forEachChain`, so a mistake there would be shared by
/// all three and caught by none of their cross-checks. These tests hold it to the spec directly.
@Suite("The chains a statement extends")
struct ChainTests {
    static func chains(_ signed: SignedStatement) -> [Chain] {
        var chains: [Chain] = []
        signed.forEachChain { chain, _ in chains.append(chain) }
        return chains
    }

    static func previous(_ signed: SignedStatement) -> [Digest?] {
        var previous: [Digest?] = []
        signed.forEachChain { _, named in previous.append(named) }
        return previous
    }

    @Test("a roster, a class, a product and a batch statement each name their chains, heads and products, in order")
    func eachKind() throws {
        let parties = LedgerFixture.parties
        let roster = try parties.signedRoster(time: LedgerFixture.start)
        #expect(Self.chains(roster) == [.roster])
        #expect(Self.previous(roster) == [nil])
        #expect(roster.products.isEmpty)
        let nextRoster = try parties.signedRoster(time: LedgerFixture.time(1), previous: roster.id)
        #expect(Self.previous(nextRoster) == [roster.id])

        let gtin = "09506000134352"
        let description = try parties.sign(
            .productClass,
            product: nil,
            previous: nil,
            by: "northwind",
            at: LedgerFixture.time(2),
            details: ["gtin": .string(gtin), "name": "Northwind Phone X"]
        )
        #expect(Self.chains(description) == [.productClass(gtin: gtin)])
        #expect(Self.previous(description) == [nil])
        #expect(description.products.isEmpty)

        let first = try LedgerFixture.product("CHAIN-1")
        let second = try LedgerFixture.product("CHAIN-2")
        let third = try LedgerFixture.product("CHAIN-3")
        let commission = try parties.sign(
            .commission,
            product: first,
            previous: nil,
            by: "northwind",
            at: LedgerFixture.time(3),
            details: ["massGrams": 204]
        )
        #expect(Self.chains(commission) == [.product(first)])
        #expect(Self.previous(commission) == [nil])
        let ship = try parties.sign(
            .ship,
            product: first,
            previous: commission.id,
            by: "northwind",
            at: LedgerFixture.time(4),
            details: ["consignee": "fabrikam"]
        )
        #expect(Self.chains(ship) == [.product(first)])
        #expect(Self.previous(ship) == [commission.id])
        #expect(ship.products == [first])

        // Members in the order signed, not sorted: the heads map counts each in log order.
        let heads = [ship.id, description.id, roster.id]
        let members = zip([third, first, second], heads).map { BatchMember(product: $0, previous: $1) }
        let recall = try parties.sign(
            .recall,
            product: nil,
            previous: nil,
            by: "northwind",
            at: LedgerFixture.time(5),
            details: ["notice": "NW-RN-1", "reason": "safety"],
            batch: members
        )
        #expect(Self.chains(recall) == [.product(third), .product(first), .product(second)])
        #expect(Self.previous(recall) == heads)
        #expect(recall.products == [third, first, second])
        #expect(recall.productLinks.map(\.previous) == heads)
        #expect(ship.productLinks.map(\.previous) == [commission.id])
    }

    @Test("a product-class statement without details.gtin extends no chain (rule L13 refuses it)")
    func classWithoutGTIN() throws {
        let statement = try Statement(
            type: .productClass,
            product: nil,
            previous: nil,
            signer: Digest(bytes: LedgerFixture.parties.log.verifier.publicKey.fingerprint),
            time: LedgerFixture.start,
            details: ["name": "no GTIN"]
        )
        #expect(Self.chains(SignedStatement(statement: statement, signature: [])).isEmpty)
    }

    @Test("map keys and stored names are the spec's: SHA-256 of a domain prefix and the name")
    func keysAndNames() throws {
        let product = try LedgerFixture.product("CHAIN-KEY")
        let gtin = "09506000134352"
        func sha(_ text: String) -> [UInt8] { SHA256.hash(Array(text.utf8)) }
        #expect(Chain.roster.mapKeyDigest.bytes == sha("retrace-heads/v1 roster\n"))
        #expect(Chain.productClass(gtin: gtin).mapKeyDigest.bytes == sha("retrace-heads/v1 class\n" + gtin))
        #expect(Chain.product(product).mapKeyDigest.bytes == sha("retrace-heads/v1 product\n" + product.digitalLink))
        #expect(Chain.roster.name == "roster")
        #expect(Chain.productClass(gtin: gtin).name == "class/09506000134352")
        #expect(Chain.product(product).name == product.digitalLink)
        // The store's names lead back to the same keys.
        for chain in [Chain.roster, .productClass(gtin: gtin), .product(product)] {
            #expect(HeadsIndex.mapKey(chain: chain.name) == chain.mapKeyDigest.bytes, "\(chain)")
        }
    }

    @Test("a stored entry's map keys: one per chain, a batch's in member order; a broken entry is named")
    func storedEntries() throws {
        var batches = 0
        for stored in PlainEntryReaderTests.entries {
            let keys = try HeadsIndex.chainKeys(stored)
            if stored.type == "roster" {
                #expect(keys == [Chain.roster.mapKeyDigest.bytes])
            } else if stored.members.isEmpty {
                #expect(keys.count == 1, "entry \(stored.index)")
            } else {
                let members = try BatchMember.parsing(stored.members)
                #expect(keys == members.map { Chain.product($0.product).mapKeyDigest.bytes }, "entry \(stored.index)")
                batches += 1
            }
        }
        #expect(batches > 0)

        let plain = try #require(PlainEntryReaderTests.entries.last { $0.members.isEmpty && $0.type != "roster" })
        var bytes = plain.bytes
        bytes[bytes.count / 2] = UInt8(ascii: "\u{1}")
        let broken = StoredEntry(
            index: plain.index,
            eventID: plain.eventID,
            type: plain.type,
            received: plain.received,
            leafHash: plain.leafHash,
            bytes: bytes,
            members: []
        )
        let error = #expect(throws: LedgerError.self) { try HeadsIndex.chainKeys(broken) }
        #expect(error?.code == .malformed)
        #expect(error?.reason.hasPrefix("entry \(plain.index) does not parse strictly") == true)
    }
}
