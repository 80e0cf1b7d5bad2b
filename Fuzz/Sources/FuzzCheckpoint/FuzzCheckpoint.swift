import FuzzSupport
import MerkleLog
import RetraceCrypto
import RetraceSimulation

/// Fuzzes the C2SP signed-note reader, note verification, checkpoint parsing and opening, and the
/// note key text formats.
///
/// Properties of what is accepted:
/// - a parsed note serialises back to the exact input (one spelling per note: strict base64, no
///   tolerated whitespace), and verifying it against the trusted keys either throws or names only
///   keys from that list;
/// - a parsed checkpoint body writes back to the exact input and rebuilds from its fields;
/// - `Checkpoint.open` accepts a note only if the note parses, verifies and its text is a checkpoint
///   (with the expected origin when one is given);
/// - a parsed verifier or private key writes back to a text that parses to the same key.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzDriver.bytes(data, size)
    let text = String(decoding: bytes, as: UTF8.self)
    let exact = Array(text.utf8) == bytes  // false for invalid UTF-8 (repaired with U+FFFD)
    checkNote(text, exact: exact)
    checkCheckpoint(text, exact: exact)
    checkKeys(text)
    return 0
}

/// The keys a verifier trusts: the test log and governance keys, and the C2SP / Go example keys of the
/// committed vectors, so that seeds carrying real signatures reach the signature check.
private let trusted: [NoteVerifier] = {
    var keys: [NoteVerifier] = []
    if let parties = try? TestParties() {
        keys.append(parties.log.verifier)
        keys.append(parties.governance.verifier)
    }
    for text in [
        "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8",
    ] {
        if let key = try? NoteVerifier(parsing: text) { keys.append(key) }
    }
    return keys
}()

private func checkNote(_ text: String, exact: Bool) {
    guard let note = try? SignedNote(parsing: text) else {
        invariant(
            (try? Checkpoint.open(text, verifiers: trusted, origin: nil)) == nil,
            "Checkpoint.open accepted a note that does not parse")
        return
    }
    if exact {
        invariant(
            sameBytes(note.serialized, text),
            "a parsed note serialises differently:\n\(text.debugDescription)\n\(note.serialized.debugDescription)")
    }
    let verifiedBy = (try? note.verify(with: trusted)) ?? []
    invariant(verifiedBy.allSatisfy { trusted.contains($0) }, "verification named an untrusted key")
    let opened = try? Checkpoint.open(text, verifiers: trusted, origin: nil)
    if let opened {
        invariant(!verifiedBy.isEmpty, "Checkpoint.open accepted a note no trusted key verifies")
        invariant(
            (try? Checkpoint(parsing: note.text)) == opened, "Checkpoint.open disagrees with parsing the note text")
        let pinned = try? Checkpoint.open(text, verifiers: trusted, origin: opened.origin)
        invariant(pinned == opened, "opening with the note's own origin gives a different result")
    } else if !verifiedBy.isEmpty {
        invariant((try? Checkpoint(parsing: note.text)) == nil, "Checkpoint.open refused a verified checkpoint")
    }
    if let origin = try? Checkpoint.open(text, verifiers: trusted, origin: TestParties.origin) {
        invariant(origin.origin == TestParties.origin, "Checkpoint.open ignored the expected origin")
    }
}

private func checkCheckpoint(_ text: String, exact: Bool) {
    guard let checkpoint = try? Checkpoint(parsing: text) else { return }
    if exact {
        invariant(
            sameBytes(checkpoint.text, text),
            "a parsed checkpoint writes back differently:\n\(text.debugDescription)\n"
                + checkpoint.text.debugDescription)
    }
    let rebuilt = try? Checkpoint(
        origin: checkpoint.origin, size: checkpoint.size, rootHash: checkpoint.rootHash,
        extensions: checkpoint.extensions)
    invariant(rebuilt == checkpoint, "a parsed checkpoint does not rebuild from its own fields")
    invariant(
        (try? Checkpoint(parsing: checkpoint.text)) == checkpoint, "a checkpoint's text does not parse back to it")
}

private func checkKeys(_ text: String) {
    if let key = try? NoteVerifier(parsing: text) {
        invariant((try? NoteVerifier(parsing: key.description)) == key, "a verifier key does not read back")
    }
    if let signer = try? NoteSigner(parsing: text) {
        let reread = try? NoteSigner(parsing: signer.privateKeyText)
        invariant(
            reread?.verifier == signer.verifier && reread?.privateKey.seed == signer.privateKey.seed,
            "a private key does not read back")
    }
}
