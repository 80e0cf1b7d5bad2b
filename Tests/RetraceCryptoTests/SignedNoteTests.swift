import Foundation
import RetraceCrypto
import Testing

@Suite("C2SP signed notes")
struct SignedNoteTests {
    struct Vector: Decodable, Sendable, CustomTestStringConvertible {
        let source: String
        let verifierKey: String
        let privateKey: String?
        let text: String?
        let note: String
        var testDescription: String { source }
    }

    static let vectors: [Vector] = {
        struct File: Decodable { let vectors: [Vector] }
        let data = (try? Data(contentsOf: VectorFile.url("notes.json"))) ?? Data()
        return (try? JSONDecoder().decode(File.self, from: data).vectors) ?? []
    }()

    @Test("the vector file loads")
    func loads() { #expect(Self.vectors.count == 3) }

    @Test("every vector note verifies with its verifier key", arguments: vectors)
    func verifies(vector: Vector) throws {
        let key = try NoteVerifier(parsing: vector.verifierKey)
        #expect(key.description == vector.verifierKey)
        let note = try SignedNote(parsing: vector.note)
        let signers = try note.verify(with: [key])
        #expect(signers == [key])
        #expect(note.serialized == vector.note)
        if let text = vector.text { #expect(note.text == text) }
    }

    @Test("signing the Go test note with its private key reproduces it byte for byte")
    func signsByteForByte() throws {
        let vector = try #require(Self.vectors.first { $0.privateKey != nil })
        let signer = try NoteSigner(parsing: vector.privateKey!)
        #expect(signer.verifier.description == vector.verifierKey)
        #expect(signer.privateKeyText == vector.privateKey)
        let note = try SignedNote.sign(text: vector.text!, with: [signer])
        #expect(note.serialized == vector.note)
    }

    @Test("a changed byte in the text of any vector note is detected", arguments: vectors)
    func tamperedText(vector: Vector) throws {
        let key = try NoteVerifier(parsing: vector.verifierKey)
        let note = try SignedNote(parsing: vector.note)
        var text = Array(note.text.utf8)
        text[0] ^= 0x01
        let forged = SignedNote(text: String(decoding: text, as: UTF8.self), signatures: note.signatures)
        #expect(throws: CryptoError(.noteSignatureInvalid, "")) { try forged.verify(with: [key]) }
    }

    @Test("a note signed by an unknown key is refused as not signed")
    func unknownKey() throws {
        let vectors = Self.vectors
        try #require(vectors.count == 3)
        let note = try SignedNote(parsing: vectors[0].note)
        let other = try NoteVerifier(parsing: vectors[1].verifierKey)
        #expect(throws: CryptoError(.noteNotSigned, "")) { try note.verify(with: [other]) }
    }

    @Test(
        "malformed notes are refused",
        arguments: [
            "no blank line\n— a AAAA\n",
            "text\n\n",
            "text\n\nnot a signature line\n",
            "text\n\n— name\n",
            "text\n\n— name !!!notbase64\n",
            "te\u{7}xt\n\n— name AAAAAAAA\n",
        ]
    )
    func malformed(note: String) {
        #expect(throws: CryptoError(.malformedNote, "")) { try SignedNote(parsing: note) }
    }

    @Test(
        "verifier keys with a wrong key id, algorithm or name are refused",
        arguments: [
            "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "PeterNeumann+c74f20a3+AhpcQcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "PeterNeumann+c74f20a3",
        ]
    )
    func badVerifierKeys(text: String) {
        #expect(throws: CryptoError.self) { try NoteVerifier(parsing: text) }
    }

    @Test("a generated key round-trips through both text formats")
    func roundTrip() throws {
        let signer = try NoteSigner.generate(name: "retrace.example/log")
        let parsed = try NoteSigner(parsing: signer.privateKeyText)
        #expect(parsed.verifier == signer.verifier)
        #expect(try NoteVerifier(parsing: signer.verifier.description) == signer.verifier)
    }
}
