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
        keyID(name: name, algorithm: ed25519Algorithm, publicKey: publicKey)
    }

    /// `SHA-256(name ‖ "\n" ‖ algorithm ‖ key)[:4]`, big-endian: the id of a signed-note key of any
    /// signature type (0x01 a log's Ed25519 key, 0x04 a witness's cosignature/v1 key).
    public static func keyID(name: String, algorithm: UInt8, publicKey: Ed25519PublicKey) -> UInt32 {
        var input = Array(name.utf8)
        input.append(0x0a)
        input.append(algorithm)
        input.append(contentsOf: publicKey.rawRepresentation)
        let digest = SHA256.hash(input)
        return digest[0..<4].reduce(0) { $0 << 8 | UInt32($1) }
    }

    public static func hex8(_ id: UInt32) -> String {
        let hex = String(id, radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }

    /// The fields of a key string of the signed-note family, with its 32 bytes of key material:
    /// what ``decode(_:private:algorithm:what:)`` checked, before the caller builds the key and
    /// compares ``writtenID`` with the id it derives.
    public struct Decoded: Sendable {
        public let name: String
        public let writtenID: UInt32
        public let material: [UInt8]
    }

    /// Splits and checks `name+keyid+base64(algorithm ‖ key)` (or, for a private key,
    /// `PRIVATE+KEY+name+keyid+base64(algorithm ‖ seed)`, one final line feed allowed): one parser
    /// for log keys and witness keys, which differ only in their type byte. `what` names the key in
    /// errors ("verifier key", "cosigner vkey", …); a key of another known type is named as such.
    public static func decode(
        _ text: String,
        private isPrivate: Bool,
        algorithm: UInt8,
        what: String
    )
        throws(CryptoError) -> Decoded
    {
        let body = isPrivate && text.hasSuffix("\n") ? String(text.dropLast()) : text
        let fields = body.split(separator: "+", maxSplits: isPrivate ? 4 : 2, omittingEmptySubsequences: false)
        let parts: ArraySlice<Substring>
        if isPrivate {
            guard fields.count == 5, fields[0] == "PRIVATE", fields[1] == "KEY" else {
                throw CryptoError(.invalidKeyEncoding, "a \(what) has the form PRIVATE+KEY+name+keyid+base64")
            }
            parts = fields[2...]
        } else {
            guard fields.count == 3 else {
                throw CryptoError(
                    .invalidKeyEncoding,
                    "a \(what) has the form name+keyid+base64, found \(fields.count) field(s)"
                )
            }
            parts = fields[...]
        }
        let name = String(parts[parts.startIndex])
        try validateName(name)
        let id = parts[parts.startIndex + 1]
        guard id.count == 8, let written = UInt32(id, radix: 16) else {
            throw CryptoError(.invalidKeyEncoding, "\(what) \"\(name)\": key id must be 8 hex digits, found \"\(id)\"")
        }
        let expected = isPrivate ? Ed25519.seedByteCount : Ed25519.publicKeyByteCount
        guard let raw = Base64.decode(parts[parts.startIndex + 2]), raw.count == 1 + expected else {
            throw CryptoError(
                .invalidKeyEncoding,
                "\(what) \"\(name)\": expected base64 of a type byte and a \(expected)-byte "
                    + (isPrivate ? "Ed25519 seed" : "key")
            )
        }
        guard raw[0] == algorithm else {
            let known = [ed25519Algorithm: "a log (signed-note Ed25519) key", 0x04: "a witness (cosignature/v1) key"]
            throw CryptoError(
                .invalidKeyEncoding,
                "\(what) \"\(name)\": signature type 0x\(hex2(raw[0])), expected 0x\(hex2(algorithm))"
                    + (known[raw[0]].map { "; this is \($0)" } ?? "")
            )
        }
        let material = Array(raw.dropFirst())
        // A trusted key of small order would let anyone sign as its holder (spec/format.md §1.3).
        if !isPrivate, Ed25519PublicKey.hasSmallOrder(material) {
            throw CryptoError(
                .invalidKeyEncoding,
                "\(what) \"\(name)\": the key is a point of small order, under which anyone can sign; "
                    + "no honestly generated key is one"
            )
        }
        return Decoded(name: name, writtenID: written, material: material)
    }

    static func hex2(_ byte: UInt8) -> String { byte < 16 ? "0" + String(byte, radix: 16) : String(byte, radix: 16) }
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
        let decoded = try NoteKey.decode(
            text,
            private: false,
            algorithm: NoteKey.ed25519Algorithm,
            what: "verifier key"
        )
        try self.init(name: decoded.name, publicKey: Ed25519PublicKey(rawRepresentation: decoded.material))
        guard keyID == decoded.writtenID else {
            throw CryptoError(
                .invalidKeyEncoding,
                "verifier key \"\(name)\": key id \(NoteKey.hex8(decoded.writtenID)) does not match the key "
                    + "(expected \(NoteKey.hex8(keyID)))"
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
        let decoded = try NoteKey.decode(text, private: true, algorithm: NoteKey.ed25519Algorithm, what: "private key")
        try self.init(name: decoded.name, privateKey: Ed25519PrivateKey(seed: decoded.material))
        guard verifier.keyID == decoded.writtenID else {
            throw CryptoError(
                .invalidKeyEncoding,
                "private key \"\(name)\": key id \(NoteKey.hex8(decoded.writtenID)) does not match the key"
            )
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
