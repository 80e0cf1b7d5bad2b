import COpenSSL

/// Ed25519 (RFC 8032) through the system libcrypto.
public enum Ed25519 {
    public static let seedByteCount = 32
    public static let publicKeyByteCount = 32
    public static let signatureByteCount = 64
}

/// An Ed25519 private key, kept as the parsed `EVP_PKEY` so signing does not re-parse the seed.
///
/// The class is immutable after initialisation and libcrypto allows concurrent signing with one
/// `EVP_PKEY` as long as each operation has its own `EVP_MD_CTX`, which ``sign(_:)`` creates;
/// that is why it can be `@unchecked Sendable`.
public final class Ed25519PrivateKey: @unchecked Sendable {
    private let key: OpaquePointer
    /// The 32-byte RFC 8032 seed. Never printed or logged.
    public let seed: [UInt8]
    public let publicKey: Ed25519PublicKey

    public init(seed: [UInt8]) throws(CryptoError) {
        guard seed.count == Ed25519.seedByteCount else {
            throw CryptoError(.invalidKeyLength, "an Ed25519 seed is 32 bytes, found \(seed.count)")
        }
        guard
            let key = seed.withUnsafeBufferPointer({
                EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nil, $0.baseAddress, $0.count)
            })
        else {
            throw CryptoError(.openSSLFailure, "libcrypto refused the Ed25519 seed (EVP_PKEY_new_raw_private_key)")
        }
        var publicBytes = [UInt8](repeating: 0, count: Ed25519.publicKeyByteCount)
        var length = publicBytes.count
        let ok = publicBytes.withUnsafeMutableBufferPointer {
            EVP_PKEY_get_raw_public_key(key, $0.baseAddress, &length)
        }
        guard ok == 1, length == Ed25519.publicKeyByteCount else {
            EVP_PKEY_free(key)
            throw CryptoError(.openSSLFailure, "libcrypto could not derive the Ed25519 public key")
        }
        self.key = key
        self.seed = seed
        self.publicKey = try Ed25519PublicKey(rawRepresentation: publicBytes)
    }

    /// A new key from the system's secure random generator.
    public static func generate() throws(CryptoError) -> Ed25519PrivateKey {
        try Ed25519PrivateKey(seed: SecureRandom.bytes(Ed25519.seedByteCount))
    }

    deinit { EVP_PKEY_free(key) }

    public func sign(_ message: some Collection<UInt8>) throws(CryptoError) -> [UInt8] {
        let bytes = Array(message)
        guard let context = EVP_MD_CTX_new() else {
            throw CryptoError(.openSSLFailure, "libcrypto could not allocate a signing context")
        }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestSignInit(context, nil, nil, nil, key) == 1 else {
            throw CryptoError(.openSSLFailure, "libcrypto could not start an Ed25519 signature")
        }
        var signature = [UInt8](repeating: 0, count: Ed25519.signatureByteCount)
        var length = signature.count
        let ok = signature.withUnsafeMutableBufferPointer { out in
            bytes.withUnsafeBufferPointer { input in
                EVP_DigestSign(context, out.baseAddress, &length, input.baseAddress, input.count)
            }
        }
        guard ok == 1, length == Ed25519.signatureByteCount else {
            throw CryptoError(.openSSLFailure, "libcrypto failed to produce an Ed25519 signature")
        }
        return signature
    }
}

/// An Ed25519 public key parsed once into a reusable verifier.
///
/// Parsing a raw key into an `EVP_PKEY` costs about as much as a hash; a verifier that checks
/// millions of signatures by a few hundred parties keeps one of these per key. Immutable, and
/// every ``isValidSignature(_:for:)`` uses its own context, so it is safe to share across threads.
public final class Ed25519PublicKey: @unchecked Sendable, Hashable, CustomStringConvertible {
    private let key: OpaquePointer
    public let rawRepresentation: [UInt8]

    public init(rawRepresentation bytes: [UInt8]) throws(CryptoError) {
        guard bytes.count == Ed25519.publicKeyByteCount else {
            throw CryptoError(.invalidKeyLength, "an Ed25519 public key is 32 bytes, found \(bytes.count)")
        }
        guard
            let key = bytes.withUnsafeBufferPointer({
                EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, $0.baseAddress, $0.count)
            })
        else {
            throw CryptoError(.invalidKeyEncoding, "libcrypto refused the Ed25519 public key")
        }
        self.key = key
        self.rawRepresentation = bytes
    }

    deinit { EVP_PKEY_free(key) }

    /// Whether `signature` is a valid RFC 8032 signature of `message` by this key.
    ///
    /// A signature of the wrong length is simply invalid: a verifier must never crash or throw on
    /// attacker-supplied bytes.
    public func isValidSignature(_ signature: [UInt8], for message: some Collection<UInt8>) -> Bool {
        guard signature.count == Ed25519.signatureByteCount, let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestVerifyInit(context, nil, nil, nil, key) == 1 else { return false }
        let verify: (UnsafeBufferPointer<UInt8>) -> Int32 = { input in
            signature.withUnsafeBufferPointer { sig in
                EVP_DigestVerify(context, sig.baseAddress, sig.count, input.baseAddress, input.count)
            }
        }
        if let result = message.withContiguousStorageIfAvailable(verify) { return result == 1 }
        return Array(message).withUnsafeBufferPointer(verify) == 1
    }

    public static func == (lhs: Ed25519PublicKey, rhs: Ed25519PublicKey) -> Bool {
        lhs.rawRepresentation == rhs.rawRepresentation
    }
    public func hash(into hasher: inout Hasher) { hasher.combine(rawRepresentation) }
    public var description: String { "Ed25519PublicKey(\(Hex.encode(rawRepresentation)))" }
}

extension Ed25519PublicKey {
    /// `SHA-256(0x01 ‖ public key)`: the full-length key identifier Retrace statements name their
    /// signer by. The 4-byte signed-note key id is too short to be unambiguous across a roster.
    public var fingerprint: [UInt8] { SHA256.hash([NoteKey.ed25519Algorithm] + rawRepresentation) }
}
