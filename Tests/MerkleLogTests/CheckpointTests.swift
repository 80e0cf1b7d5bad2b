import Foundation
import MerkleLog
import RetraceCrypto
import Testing

@Suite("C2SP tlog-checkpoint")
struct CheckpointTests {
    static let root = MerkleHash.leafHash(Array("root".utf8))
    static let rootBase64 = Base64.encode(root)

    @Test("formatting and parsing round-trip, with and without extension lines")
    func roundTrip() throws {
        let plain = try Checkpoint(origin: "example.com/retrace", size: 20_852_163, rootHash: Self.root)
        #expect(plain.text == "example.com/retrace\n20852163\n\(Self.rootBase64)\n")
        #expect(try Checkpoint(parsing: plain.text) == plain)

        let extended = try Checkpoint(origin: "o", size: 0, rootHash: MerkleHash.emptyRoot, extensions: ["a b", "c"])
        #expect(extended.text == "o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\na b\nc\n")
        let parsed = try Checkpoint(parsing: extended.text)
        #expect(parsed == extended && parsed.extensions == ["a b", "c"])

        let largest = try Checkpoint(parsing: "o\n18446744073709551615\n\(Self.rootBase64)\n")
        #expect(largest.size == .max)
    }

    @Test(
        "malformed checkpoint texts are refused",
        arguments: [
            ("leading zero", "o\n012\nROOT\n"),
            ("zero with a leading zero", "o\n00\nROOT\n"),
            ("negative size", "o\n-1\nROOT\n"),
            ("plus sign", "o\n+12\nROOT\n"),
            ("hexadecimal size", "o\n0x10\nROOT\n"),
            ("exponent", "o\n1e3\nROOT\n"),
            ("space in size", "o\n12 \nROOT\n"),
            ("empty size", "o\n\nROOT\n"),
            ("size past 2^64 − 1", "o\n18446744073709551616\nROOT\n"),
            ("bad base64", "o\n12\nnot base64!\n"),
            ("unpadded base64", "o\n12\nROOT_UNPADDED\n"),
            ("31-byte root", "o\n12\nSHORT_ROOT\n"),
            ("33-byte root", "o\n12\nLONG_ROOT\n"),
            ("missing trailing newline", "o\n12\nROOT"),
            ("empty origin", "\n12\nROOT\n"),
            ("only two lines", "o\n12\n"),
            ("empty extension line", "o\n12\nROOT\n\next\n"),
            ("control character in origin", "o\r\n12\nROOT\n"),
            ("empty text", ""),
        ]
    )
    func malformed(description: String, template: String) {
        let text =
            template
            .replacingOccurrences(of: "ROOT_UNPADDED", with: String(Self.rootBase64.dropLast()))
            .replacingOccurrences(of: "SHORT_ROOT", with: Base64.encode(Array(Self.root.dropLast())))
            .replacingOccurrences(of: "LONG_ROOT", with: Base64.encode(Self.root + [0]))
            .replacingOccurrences(of: "ROOT", with: Self.rootBase64)
        #expect(merkleErrorCode { _ = try Checkpoint(parsing: text) } == .malformedCheckpoint, "\(description)")
    }

    @Test("a checkpoint cannot be built with an empty or multi-line origin or extension, or a short root")
    func invalidFields() {
        #expect(
            merkleErrorCode { _ = try Checkpoint(origin: "", size: 1, rootHash: Self.root) }
                == .malformedCheckpoint
        )
        #expect(
            merkleErrorCode { _ = try Checkpoint(origin: "a\nb", size: 1, rootHash: Self.root) }
                == .malformedCheckpoint
        )
        #expect(
            merkleErrorCode { _ = try Checkpoint(origin: "o", size: 1, rootHash: Self.root, extensions: [""]) }
                == .malformedCheckpoint
        )
        #expect(
            merkleErrorCode { _ = try Checkpoint(origin: "o", size: 1, rootHash: Array(Self.root.prefix(31))) }
                == .invalidHashLength
        )
    }

    @Test("a signed checkpoint opens with its key and origin, and only then")
    func signAndOpen() throws {
        let signer = try NoteSigner.generate(name: "example.com/retrace")
        let other = try NoteSigner.generate(name: "example.com/other")
        let checkpoint = try Checkpoint(origin: "example.com/retrace", size: 5, rootHash: Self.root)
        let note = try checkpoint.sign(with: signer).serialized

        #expect(try Checkpoint.open(note, verifiers: [signer.verifier], origin: "example.com/retrace") == checkpoint)
        #expect(try Checkpoint.open(note, verifiers: [other.verifier, signer.verifier], origin: nil) == checkpoint)
        #expect(
            merkleErrorCode { _ = try Checkpoint.open(note, verifiers: [signer.verifier], origin: "example.com/x") }
                == .originMismatch
        )
        #expect(
            merkleErrorCode { _ = try Checkpoint.open(note, verifiers: [other.verifier], origin: nil) }
                == .noteUntrusted
        )

        // Same layout, same signature line, another size: the signature no longer verifies.
        let tampered = note.replacingOccurrences(of: "\n5\n", with: "\n6\n")
        #expect(tampered != note)
        #expect(
            merkleErrorCode { _ = try Checkpoint.open(tampered, verifiers: [signer.verifier], origin: nil) }
                == .noteSignatureInvalid
        )
        #expect(
            merkleErrorCode { _ = try Checkpoint.open("not a note", verifiers: [signer.verifier], origin: nil) }
                == .malformedNote
        )

        // A validly signed note whose text is not a checkpoint is refused as a checkpoint.
        let notCheckpoint = try SignedNote.sign(text: "hello\n", with: [signer]).serialized
        #expect(
            merkleErrorCode { _ = try Checkpoint.open(notCheckpoint, verifiers: [signer.verifier], origin: nil) }
                == .malformedCheckpoint
        )
    }

    @Test("the sum.golang.org checkpoint opens with its published key")
    func sumGolangOrg() throws {
        struct File: Decodable {
            struct Vector: Decodable {
                let source: String
                let verifierKey: String
                let note: String
            }
            let vectors: [Vector]
        }
        let file = try JSONDecoder().decode(File.self, from: Data(contentsOf: VectorFile.url("notes.json")))
        let vector = try #require(file.vectors.first { $0.source.hasPrefix("sum.golang.org") })
        let key = try NoteVerifier(parsing: vector.verifierKey)
        let checkpoint = try Checkpoint.open(vector.note, verifiers: [key], origin: "go.sum database tree")
        #expect(checkpoint.size == 6_476_701)
        #expect(Base64.encode(checkpoint.rootHash) == "mb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=")
        #expect(checkpoint.extensions.isEmpty)
        #expect(
            merkleErrorCode { _ = try Checkpoint.open(vector.note, verifiers: [key], origin: "sum.golang.org") }
                == .originMismatch
        )
    }
}
