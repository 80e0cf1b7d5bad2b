import MerkleLog
import RetraceLedger
import RetraceStorage
import Testing

@testable import RetraceVerification

/// The second core's signature checks ahead of a scan fill the cache the scan then takes entries
/// from without reading them again: they must read the stored bytes exactly as the scan would
/// (strictly), or whether a scan accepts an entry would depend on which core reached it first.
@Suite("Signature checks ahead of a scan read entries as the scan does")
struct PrewarmParsingTests {
    /// The roster's (index, leaf hash) pairs and the product's stored entries.
    static func stored(
        _ story: StoryLedger,
        _ product: String
    ) throws
        -> (roster: [(index: UInt64, leafHash: [UInt8])], entries: [StoredEntry])
    {
        try story.store.read { reader in
            let roster = try reader.chain(Ledger.rosterChain).map(\.index)
            let chain = try reader.chain(product).map(\.index)
            let read = try reader.entries(at: roster + chain)
            return (
                try roster.map { index in (index, try #require(read[index]).leafHash) },
                try chain.map { try #require(read[$0]) }
            )
        }
    }

    @Test("an entry the strict reader refuses is not checked ahead, nor cached; one it reads is")
    func strictAhead() throws {
        let story = try StoryLedger()
        let phone = try StoryLedger.product("PH-7001")
        try story.sell(phone)
        let verifier = story.verifier
        // A first scan verifies the roster, so that checks ahead have a trust state to use.
        #expect(try verifier.verdict(VerifierCacheTests.request(phone)).code != .ledgerIntegrityFailure)
        try story.record(.ship, phone, by: "fabrikam", day: 3, details: ["consignee": .string("litware")])
        let (roster, entries) = try Self.stored(story, phone.digitalLink)
        let fresh = try #require(entries.last)
        let before = verifier.evidence.statistics.eventSignatures

        // The same entry spelled with a space after its opening brace: the same JSON to a lenient
        // reader, not the bytes Retrace writes.
        let respelled = [UInt8(ascii: "{"), UInt8(ascii: " ")] + fresh.bytes.dropFirst()
        verifier.evidence.prewarm(
            roster: roster,
            entries: [(fresh.index, respelled, MerkleHash.leafHash(respelled))]
        ).drain()
        #expect(verifier.evidence.statistics.eventSignatures == before, "a non-canonical entry was checked ahead")

        verifier.evidence.prewarm(roster: roster, entries: [(fresh.index, fresh.bytes, fresh.leafHash)]).drain()
        #expect(verifier.evidence.statistics.eventSignatures == before + 1, "the stored entry was not checked ahead")
    }
}
