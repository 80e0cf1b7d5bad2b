/// Keys in the C2SP signed-note text formats, so keys made by Retrace work with
/// golang.org/x/mod/sumdb/note and other transparency-log tools, and theirs with Retrace.
///
/// - verifier key: `name+keyid+base64(0x01 ‖ public key)`
/// - private key: `PRIVATE+KEY+name+keyid+base64(0x01 ‖ seed)`
///
/// The key id is the first four bytes, big-endian, of `SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key)`;
/// binding the name into the id stops a signature line from being attributed to another name.
public enum NoteKey {
    /// The signed-note algorithm byte for Ed25519.
    public static let ed25519Algorithm: UInt8 = 0x01

    /// A name is non-empty, contains no `+` and no Unicode white space or control characters:
    /// it must survive being a field in `+`-separated key strings and in `— name sig` lines.
    public static func validateName(_ name: String) throws(CryptoError) {
        guard !name.isEmpty else { throw CryptoError(.invalidKeyName, "a key name must not be empty") }
        for scalar in name.unicodeScalars {
            if scalar == "+" || scalar.properties.isWhitespace || scalar.value < 0x20 || scalar.value == 0x7f {
                throw CryptoError(
                    .invalidKeyName,
                    "key name \"\(name)\" contains U+\(String(scalar.value, radix: 16, uppercase: true)); "
                        + "names may not contain '+', spaces or control characters"
                )
            }
        }
    }

    public static func keyID(name: String, publicKey: Ed25519PublicKey) -> UInt32 {
        var input = Array(name.utf8)
        input.append(0x0a)
        input.append(ed25519Algorithm)
        input.append(contentsOf: publicKey.rawRepresentation)
        let digest = SHA256.hash(input)
        return digest[0..<4].reduce(0) { $0 << 8 | UInt32($1) }
    }

    static func hex8(_ id: UInt32) -> String {
        let hex = String(id, radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }
}

/// A named Ed25519 public key that verifies signed notes and Retrace signatures.
public struct NoteVerifier: Sendable, Hashable, CustomStringConvertible {
    public let name: String
    public let keyID: UInt32
    public let publicKey: Ed25519PublicKey

    public init(name: String, publicKey: Ed25519PublicKey) throws(CryptoError) {
        try NoteKey.validateName(name)
        self.name = name
        self.publicKey = publicKey
        self.keyID = NoteKey.keyID(name: name, publicKey: publicKey)
    }

    /// Parses `name+keyid+base64`. The base64 part may itself contain `+`, so only the first two
    /// `+` separate fields; the key id is recomputed and must match the one written.
    public init(parsing text: String) throws(CryptoError) {
        let parts = text.split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else {
            throw CryptoError(
                .invalidKeyEncoding,
                "a verifier key has the form name+keyid+base64, found \(parts.count) field(s)"
            )
        }
        let name = String(parts[0])
        try NoteKey.validateName(name)
        guard parts[1].count == 8, let written = UInt32(parts[1], radix: 16) else {
            throw CryptoError(
                .invalidKeyEncoding,
                "verifier key \"\(name)\": key id must be 8 hex digits, found \"\(parts[1])\""
            )
        }
        guard let raw = Base64.decode(parts[2]) else {
            throw CryptoError(.invalidKeyEncoding, "verifier key \"\(name)\": the key is not valid base64")
        }
        guard raw.count == 1 + Ed25519.publicKeyByteCount, raw[0] == NoteKey.ed25519Algorithm else {
            throw CryptoError(
                .invalidKeyEncoding,
                "verifier key \"\(name)\": expected algorithm 0x01 (Ed25519) and a 32-byte key, found \(raw.count) bytes"
            )
        }
        try self.init(name: name, publicKey: Ed25519PublicKey(rawRepresentation: Array(raw.dropFirst())))
        guard keyID == written else {
            throw CryptoError(
                .invalidKeyEncoding,
                "verifier key \"\(name)\": key id \(parts[1]) does not match the key (expected \(NoteKey.hex8(keyID)))"
            )
        }
    }

    public var description: String {
        "\(name)+\(NoteKey.hex8(keyID))+\(Base64.encode([NoteKey.ed25519Algorithm] + publicKey.rawRepresentation))"
    }

    public func isValidSignature(_ signature: [UInt8], for message: some Collection<UInt8>) -> Bool {
        publicKey.isValidSignature(signature, for: message)
    }
}

/// A named Ed25519 private key in the signed-note private key format.
public struct NoteSigner: Sendable {
    public let name: String
    public let privateKey: Ed25519PrivateKey
    public let verifier: NoteVerifier

    public init(name: String, privateKey: Ed25519PrivateKey) throws(CryptoError) {
        self.name = name
        self.privateKey = privateKey
        self.verifier = try NoteVerifier(name: name, publicKey: privateKey.publicKey)
    }

    public static func generate(name: String) throws(CryptoError) -> NoteSigner {
        try NoteSigner(name: name, privateKey: .generate())
    }

    /// Parses `PRIVATE+KEY+name+keyid+base64(0x01 ‖ seed)`; the key id must match the derived key.
    public init(parsing text: String) throws(CryptoError) {
        let trimmed = text.hasSuffix("\n") ? String(text.dropLast()) : text
        let parts = trimmed.split(separator: "+", maxSplits: 4, omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "PRIVATE", parts[1] == "KEY" else {
            throw CryptoError(.invalidKeyEncoding, "a private key has the form PRIVATE+KEY+name+keyid+base64")
        }
        let name = String(parts[2])
        try NoteKey.validateName(name)
        guard parts[3].count == 8, let written = UInt32(parts[3], radix: 16) else {
            throw CryptoError(.invalidKeyEncoding, "private key \"\(name)\": key id must be 8 hex digits")
        }
        guard let raw = Base64.decode(parts[4]), raw.count == 1 + Ed25519.seedByteCount,
            raw[0] == NoteKey.ed25519Algorithm
        else {
            throw CryptoError(
                .invalidKeyEncoding,
                "private key \"\(name)\": expected base64 of 0x01 followed by a 32-byte Ed25519 seed"
            )
        }
        try self.init(name: name, privateKey: Ed25519PrivateKey(seed: Array(raw.dropFirst())))
        guard verifier.keyID == written else {
            throw CryptoError(.invalidKeyEncoding, "private key \"\(name)\": key id \(parts[3]) does not match the key")
        }
    }

    /// The private key file text. Callers write it with mode 0600.
    public var privateKeyText: String {
        "PRIVATE+KEY+\(name)+\(NoteKey.hex8(verifier.keyID))+\(Base64.encode([NoteKey.ed25519Algorithm] + privateKey.seed))"
    }

    public func sign(_ message: some Collection<UInt8>) throws(CryptoError) -> [UInt8] {
        try privateKey.sign(message)
    }
}
