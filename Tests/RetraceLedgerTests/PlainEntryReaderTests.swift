import CanonicalJSON
import Foundation
import RetraceSimulation
import RetraceStorage
import Testing

@testable import RetraceEvents

/// The reader without a JSON tree must accept nothing the tree reader refuses, and read what it
/// accepts exactly as the tree reader does: it is on every audit, verdict and append.
@Suite("Entries read without a JSON tree")
struct PlainEntryReaderTests {
    /// Every entry of a generated ledger, the first roster included, with each one's batch members.
    static let entries: [StoredEntry] = {
        do {
            let fixture = try LedgerFixture()
            defer { fixture.remove() }
            // Whole stories (no cut), in small cohorts, half of them returned and many damaged:
            // inspections, repairs, and each cohort's recycling pallet, a batch statement.
            let configuration = LedgerGenerator.Configuration(
                products: 240,
                seed: 15,
                returnRate: 0.5,
                reasonMix: [("damaged-in-transit", 0.3), ("defective", 0.3), ("no-longer-needed", 0.4)],
                cohortSize: 60
            )
            let generator = LedgerGenerator(configuration: configuration, parties: fixture.parties)
            _ = try generator.run { batch in _ = try fixture.ledger.append(batch) }
            return try fixture.ledger.store.read { reader in
                var entries: [StoredEntry] = []
                try reader.forEachEntry(from: 0, to: try reader.treeSize()) { entries.append($0) }
                return entries
            }
        } catch {
            preconditionFailure("the generated ledger was not written: \(error)")
        }
    }()

    /// The tree reader's answer: the entry, or the error it names.
    static func tree(_ bytes: [UInt8]) -> Result<LogEntry, FormatError> {
        Result { () throws(FormatError) in try LogEntry(readingTree: bytes, members: []) }
    }

    @Test("every entry without batch members is read alike by both readers, and only those")
    func everyEntry() throws {
        var plain = 0
        var types: Set<String> = []
        for stored in Self.entries {
            let read = PlainEntryReader.entry(stored.bytes)
            if stored.members.isEmpty {
                let expected = try LogEntry(readingTree: stored.bytes, members: [])
                #expect(read == expected, "entry \(stored.index)")
                #expect(read?.leafHash == stored.leafHash, "entry \(stored.index)")
                plain += 1
                types.insert(stored.type)
            } else {
                // A batch statement's frame has `batch`: the tree reader takes it, with its members.
                #expect(read == nil, "batch entry \(stored.index)")
                let members = try stored.members.map {
                    try BatchMember(json: CanonicalJSON.decode($0), path: "members")
                }
                #expect(try LogEntry(parsing: stored.bytes, members: members).statement.batch != nil)
            }
        }
        #expect(plain > 1_000)
        #expect(types.isSuperset(of: ["roster", "commission", "ship", "return-receive", "inspect"]))
        #expect(Self.entries.contains { !$0.members.isEmpty }, "the generator wrote no batch statement")
    }

    @Test("a batch's stored members parse in order into its commitment; a broken one is refused by its place")
    func storedMembers() throws {
        let batch = try #require(Self.entries.first { $0.members.count >= 3 })
        let members = try BatchMember.parsing(batch.members)
        #expect(members.map(\.canonicalBytes) == batch.members)
        let statement = try LogEntry(parsing: batch.bytes, members: members).statement
        #expect(statement.batch == BatchMember.commitment(for: members))
        var broken = batch.members
        broken[2] = Array(
            String(decoding: broken[2], as: UTF8.self)
                .replacingOccurrences(of: "\"previous\":\"", with: "\"previous\":\"zz").utf8
        )
        let error = #expect(throws: FormatError.self) { try BatchMember.parsing(broken) }
        #expect(error?.field == "members[2].previous")
    }

    /// One entry of each shape the frame has: with and without `location`, `previous` and
    /// `product`, with empty and non-empty `details`.
    static func shapes() -> [[UInt8]] {
        var chosen: [String: [UInt8]] = [:]
        for stored in entries where stored.members.isEmpty {
            guard let entry = try? LogEntry(readingTree: stored.bytes, members: []) else { continue }
            let statement = entry.statement
            let shape = [
                statement.type.name, statement.location == nil ? "-" : "l", statement.previous == nil ? "-" : "p",
                statement.details.isEmpty ? "-" : "d",
            ].joined()
            if chosen[shape] == nil { chosen[shape] = stored.bytes }
        }
        return chosen.keys.sorted().prefix(10).compactMap { chosen[$0] }
    }

    /// Bytes that matter to the frame: a quote, an escape, structure, a digit, a letter of either
    /// case, whitespace, a control byte, DEL and a UTF-8 lead byte.
    static let replacements: [UInt8] = Array("\"\\},0aA ".utf8) + [0x1F, 0x7F, 0xC3]

    @Test("a byte changed, removed or added anywhere: the plain reader accepts only what the tree reader reads alike")
    func mutations() throws {
        let shapes = Self.shapes()
        #expect(shapes.count == 10)
        var accepted = 0
        var refused = 0
        for original in shapes {
            var variants: [[UInt8]] = []
            for position in original.indices {
                for byte in Self.replacements where byte != original[position] {
                    var changed = original
                    changed[position] = byte
                    variants.append(changed)
                }
                var removed = original
                removed.remove(at: position)
                variants.append(removed)
                var widened = original
                widened.insert(UInt8(ascii: " "), at: position)
                variants.append(widened)
            }
            for variant in variants {
                let plain = PlainEntryReader.entry(variant)
                switch Self.tree(variant) {
                case .success(let entry):
                    if let plain {
                        #expect(plain == entry)
                        accepted += 1
                    }
                case .failure(let error):
                    #expect(plain == nil, "accepted what the tree reader refuses: \(error)")
                    // The public reader names the tree reader's error (sampled: it parses again).
                    if refused % 64 == 0 { #expect(throws: error) { try LogEntry(parsing: variant) } }
                    refused += 1
                }
            }
        }
        // Both kinds occur: digits changed inside a time or a digest still read, most changes not.
        #expect(accepted > 100)
        #expect(refused > 5_000)
    }

    @Test("a submitted statement: the plain reader accepts only what the tree reader reads alike")
    func submissions() throws {
        for original in Self.shapes() {
            let entry = try LogEntry(readingTree: original, members: [])
            let submitted = try CanonicalJSON.encode(entry.signed.json)
            #expect(PlainEntryReader.signedStatement(submitted) == entry.signed)
            for position in submitted.indices {
                for byte in Self.replacements where byte != submitted[position] {
                    var changed = submitted
                    changed[position] = byte
                    let plain = PlainEntryReader.signedStatement(changed)
                    let tree = try? SignedStatement(readingTree: changed)
                    #expect(plain == nil || plain == tree)
                }
            }
        }
    }

    @Test("details nested to the strict limit are read; one level more is left to the tree reader, which refuses it")
    func detailsDepth() throws {
        let base = try #require(Self.shapes().first)
        let entry = try LogEntry(readingTree: base, members: [])
        // The entry and the statement take two of the 64 levels; details with 62 levels fit.
        for levels in [61, 62, 63] {
            var nested = JSONValue.object([:])
            for _ in 1..<levels { nested = .object(["n": nested]) }
            guard case .object(let details) = nested else { return }
            let statement = try Statement(
                type: .roster,
                product: nil,
                previous: entry.statement.previous,
                signer: entry.statement.signer,
                time: entry.statement.time,
                details: details
            )
            let signed = SignedStatement(statement: statement, signature: entry.signed.signature)
            let bytes = try CanonicalJSON.encode(LogEntry(received: entry.received, signed: signed).json, maxDepth: 100)
            let plain = PlainEntryReader.entry(bytes)
            switch Self.tree(bytes) {
            case .success(let read):
                #expect(levels <= 62)
                #expect(plain == read)
            case .failure(let error):
                #expect(levels == 63)
                #expect(plain == nil)
                #expect(error.code == .malformedJSON)
            }
        }
    }
}
