import CanonicalJSON
import Foundation
import MerkleLog
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceSimulation
import RetraceVerification
import Testing

/// Every input the fuzzers kept (Tests/FuzzCorpus, FUZZING.md), replayed by `swift test` without
/// libFuzzer: the parsers refuse or accept each one without crashing, and what they accept has the
/// properties the fuzz targets check (it reads back byte for byte). A fix that reopens a crash,
/// or a change that breaks a round trip, fails here, not only in the next fuzzing run.
@Suite("Fuzz corpora replayed (Tests/FuzzCorpus)")
struct FuzzCorpusReplayTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../FuzzCorpus").standardizedFileURL

    /// The inputs of one target's corpus, by file name.
    static func corpus(_ target: String) throws -> [(name: String, bytes: [UInt8])] {
        let folder = root.appendingPathComponent(target)
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        return try names.map { ($0, try [UInt8](Data(contentsOf: folder.appendingPathComponent($0)))) }
    }

    @Test("the five corpora are present and not empty (a missing folder would replay nothing)")
    func present() throws {
        for target in ["FuzzIdentity", "FuzzCanonicalJSON", "FuzzEvent", "FuzzBundle", "FuzzCheckpoint"] {
            #expect(try Self.corpus(target).count > 50, "\(target)")
        }
    }

    @Test("FuzzIdentity: an accepted scan is a valid SGTIN whose Digital Link parses back to it")
    func identity() throws {
        for (name, bytes) in try Self.corpus("FuzzIdentity") {
            guard let scan = try? IdentityParser.parse(String(decoding: bytes, as: UTF8.self), referenceYear: 2026)
            else { continue }
            let again = try? IdentityParser.parse(scan.sgtin.digitalLink, referenceYear: 2026)
            #expect(again?.sgtin == scan.sgtin, "\(name)")
            #expect(scan.sgtin.gtin.digits.utf8.count == 14, "\(name)")
        }
    }

    @Test("FuzzCanonicalJSON: strictly accepted JSON re-encodes to the same bytes")
    func canonicalJSON() throws {
        for (name, bytes) in try Self.corpus("FuzzCanonicalJSON") {
            guard let value = try? CanonicalJSON.decode(bytes, options: .strict) else { continue }
            #expect((try? CanonicalJSON.encode(value)) == bytes, "\(name)")
        }
    }

    @Test("FuzzEvent: an accepted signed statement or log entry has exactly the input bytes as its encoding")
    func events() throws {
        for (name, bytes) in try Self.corpus("FuzzEvent") {
            if let signed = try? SignedStatement(parsing: bytes) {
                #expect((try? CanonicalJSON.encode(signed.json)) == bytes, "\(name)")
                #expect((try? Statement(json: signed.statement.json))?.id == signed.statement.id, "\(name)")
            } else if let entry = try? LogEntry(parsing: bytes) {
                #expect(entry.canonicalBytes == bytes, "\(name)")
            }
        }
    }

    @Test("FuzzBundle: an accepted bundle encodes to the input bytes, and verifying any input throws or answers")
    func bundles() throws {
        let parties = try TestParties()
        let verifier = EvidenceVerifier(
            anchors: TrustAnchors(
                governance: [parties.governance.verifier],
                logKey: parties.log.verifier,
                origin: TestParties.origin
            )
        )
        var accepted = 0
        for (name, bytes) in try Self.corpus("FuzzBundle") {
            _ = try? verifier.verify(bytes: bytes)
            guard let bundle = try? ProofBundle(parsing: bytes) else { continue }
            accepted += 1
            #expect((try? bundle.encoded()) == bytes, "\(name)")
        }
        #expect(accepted > 0, "the corpus holds well-formed bundles, so parsing is exercised past the first member")
    }

    @Test("FuzzCheckpoint: an accepted note serialises back to its text; an opened checkpoint agrees with its body")
    func checkpoints() throws {
        let parties = try TestParties()
        let trusted = [parties.log.verifier, parties.governance.verifier]
        for (name, bytes) in try Self.corpus("FuzzCheckpoint") {
            let text = String(decoding: bytes, as: UTF8.self)
            guard let note = try? SignedNote(parsing: text) else {
                #expect((try? Checkpoint.open(text, verifiers: trusted, origin: nil)) == nil, "\(name)")
                continue
            }
            if Array(text.utf8) == bytes { #expect(Array(note.serialized.utf8) == bytes, "\(name)") }
            if let opened = try? Checkpoint.open(text, verifiers: trusted, origin: nil) {
                #expect((try? Checkpoint(parsing: note.text)) == opened, "\(name)")
            }
        }
    }
}
