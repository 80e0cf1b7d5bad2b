import RetraceCrypto

/// The public key of a C2SP tlog-cosignature/v1 cosigner (a witness): Ed25519, signature type 0x04.
///
/// The type byte differs from a log's 0x01 so that a cosignature can never be mistaken for a log
/// signature: the key id is `SHA-256(name ‖ "\n" ‖ 0x04 ‖ key)[:4]`, so even the same key under
/// the same name gives a different id, and a checkpoint verifier that knows only log keys skips
/// cosignature lines as signatures by unknown keys.
public struct CosignerVerifier: Sendable, Hashable, CustomStringConvertible {
    /// The signed-note signature type of Ed25519 cosignature/v1 keys.
    public static let algorithm: UInt8 = 0x04

    public let name: String
    public let keyID: UInt32
    public let publicKey: Ed25519PublicKey

    public init(name: String, publicKey: Ed25519PublicKey) throws(WitnessError) {
        do { try NoteKey.validateName(name) } catch { throw WitnessError(.invalidKey, error.reason) }
        self.name = name
        self.publicKey = publicKey
        self.keyID = Self.keyID(name: name, publicKey: publicKey)
    }

    /// Parses a vkey `name+keyid+base64(0x04 ‖ 32-byte key)`; the key id is recomputed and must match.
    public init(parsing text: String) throws(WitnessError) {
        let decoded: NoteKey.Decoded
        let key: Ed25519PublicKey
        do {
            decoded = try NoteKey.decode(text, private: false, algorithm: Self.algorithm, what: "cosigner vkey")
            key = try Ed25519PublicKey(rawRepresentation: decoded.material)
        } catch { throw WitnessError(.invalidKey, error.reason) }
        try self.init(name: decoded.name, publicKey: key)
        guard keyID == decoded.writtenID else {
            throw WitnessError(
                .invalidKey,
                "cosigner vkey \"\(name)\": key id \(Self.hex8(decoded.writtenID)) does not match the key "
                    + "(expected \(Self.hex8(keyID)))"
            )
        }
    }

    public var description: String {
        "\(name)+\(Self.hex8(keyID))+\(Base64.encode([Self.algorithm] + publicKey.rawRepresentation))"
    }

    public static func keyID(name: String, publicKey: Ed25519PublicKey) -> UInt32 {
        NoteKey.keyID(name: name, algorithm: algorithm, publicKey: publicKey)
    }

    static func hex8(_ id: UInt32) -> String { NoteKey.hex8(id) }
}

/// A cosigner's private key, in the signed-note private key form with type byte 0x04:
/// `PRIVATE+KEY+name+keyid+base64(0x04 ‖ 32-byte seed)`.
public struct CosignerSigner: Sendable {
    public let name: String
    public let privateKey: Ed25519PrivateKey
    public let verifier: CosignerVerifier

    public init(name: String, privateKey: Ed25519PrivateKey) throws(WitnessError) {
        self.name = name
        self.privateKey = privateKey
        self.verifier = try CosignerVerifier(name: name, publicKey: privateKey.publicKey)
    }

    public static func generate(name: String) throws(WitnessError) -> CosignerSigner {
        do { return try CosignerSigner(name: name, privateKey: .generate()) } catch let error as WitnessError {
            throw error
        } catch { throw WitnessError(.invalidKey, "could not generate a key: \(error)") }
    }

    public init(parsing text: String) throws(WitnessError) {
        let decoded: NoteKey.Decoded
        let key: Ed25519PrivateKey
        do {
            decoded = try NoteKey.decode(
                text,
                private: true,
                algorithm: CosignerVerifier.algorithm,
                what: "cosigner private key"
            )
            key = try Ed25519PrivateKey(seed: decoded.material)
        } catch { throw WitnessError(.invalidKey, error.reason) }
        try self.init(name: decoded.name, privateKey: key)
        guard verifier.keyID == decoded.writtenID else {
            throw WitnessError(
                .invalidKey,
                "cosigner private key \"\(name)\": key id \(CosignerVerifier.hex8(decoded.writtenID)) does not match the key"
            )
        }
    }

    /// The private key file text. Callers write it with mode 0600.
    public var privateKeyText: String {
        "PRIVATE+KEY+\(name)+\(CosignerVerifier.hex8(verifier.keyID))+"
            + Base64.encode([CosignerVerifier.algorithm] + privateKey.seed)
    }

    /// Cosigns a checkpoint body (the note text, extension lines included) at `time`.
    public func cosign(checkpointText: String, time: UInt64) throws(WitnessError) -> Cosignature {
        guard time >= 1, time <= UInt64(Int64.max) else {
            throw WitnessError(.malformedCosignature, "a cosignature time must be 1…2^63−1, found \(time)")
        }
        let signature: [UInt8]
        do { signature = try privateKey.sign(Cosignature.message(checkpointText: checkpointText, time: time)) } catch {
            throw WitnessError(.cosignatureInvalid, "signing failed: \(error.reason)")
        }
        return Cosignature(name: name, keyID: verifier.keyID, time: time, signature: signature)
    }
}
