import COpenSSL
import CSodium

/// Ed25519 (RFC 8032): computed by libsodium, decided by the rules libcrypto implements.
///
/// libsodium signs and verifies 1.7–2 times as fast as the system libcrypto here (BENCHMARKS.md,
/// "libsodium beside libcrypto"), and every appended, audited or scanned statement costs one
/// verification. The two agree on every signature but those libsodium refuses up front for being
/// "strict" (spec/format.md §1.3: a key of small order or encoded with `y ≥ p`, an `R` of small
/// order), which Retrace's rules accept when the equation holds; those cases, and only those, are
/// answered by libcrypto. What libsodium accepts, the rules accept, so the answer is libcrypto's
/// for every input — pinned by `spec/vectors/ed25519-edge-cases.json`.
public enum Ed25519 {
    public static let seedByteCount = 32
    public static let publicKeyByteCount = 32
    public static let signatureByteCount = 64

    /// Whether libsodium does the arithmetic in this process: it initialised, and it gave the
    /// pinned answers to the "Taming the many EdDSAs" cases (``Ed25519SelfCheck``). Another build
    /// of libsodium whose rules differ (a cofactored check, a different treatment of `R`) would fail
    /// that check, and every signature would then go to libcrypto alone: slower, never different.
    public static var libsodiumVerifies: Bool { Ed25519SelfCheck.passed }

    /// What does the arithmetic, for a benchmark's or a status page's header.
    public static var implementation: String {
        libsodiumVerifies
            ? "libsodium \(String(cString: sodium_version_string())), libcrypto for the cases it refuses strictly"
            : "libcrypto (libsodium \(Sodium.initialised ? "disagreed with the pinned cases" : "did not initialise"))"
    }
}

/// libsodium's one-time set-up, done before its first use by any thread (`sodium_init` is itself
/// idempotent and thread-safe; a Swift `static let` runs it exactly once).
enum Sodium {
    static let initialised: Bool = sodium_init() >= 0

    /// libsodium's own answer, strict rules and all; callers decide what a refusal means.
    static func verify(
        _ signature: UnsafeBufferPointer<UInt8>,
        _ message: UnsafeBufferPointer<UInt8>,
        key: [UInt8]
    ) -> Bool {
        // An empty message may come without a base address; libsodium wants a pointer regardless.
        withUnsafePointer(to: 0 as UInt8) { empty in
            key.withUnsafeBufferPointer { key in
                crypto_sign_ed25519_verify_detached(
                    signature.baseAddress!,
                    message.baseAddress ?? empty,
                    UInt64(message.count),
                    key.baseAddress!
                ) == 0
            }
        }
    }
}

/// An Ed25519 private key: libsodium's expanded form for signing, and the parsed `EVP_PKEY` in case
/// libsodium is unavailable.
///
/// Signing is deterministic (RFC 8032 §5.1.6), so both libraries give the same bytes for the same
/// seed and message (the RFC's vectors check it). The class is immutable after initialisation;
/// libsodium's signing only reads the secret key, and libcrypto allows concurrent signing with one
/// `EVP_PKEY` as long as each operation has its own `EVP_MD_CTX`, which ``sign(_:)`` copies from a
/// template that is only ever read (see ``Ed25519ContextTemplate``): that is why it can be
/// `@unchecked Sendable`.
public final class Ed25519PrivateKey: @unchecked Sendable {
    private let key: OpaquePointer
    private let template: Ed25519ContextTemplate
    /// libsodium's 64-byte secret key (seed ‖ public key), `nil` when libcrypto signs; zeroed when
    /// the key goes.
    private let sodiumSecret: UnsafeMutableBufferPointer<UInt8>?
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
        self.template = Ed25519ContextTemplate(key: key, operation: .sign)
        self.sodiumSecret = Self.sodiumSecret(seed: seed, expecting: publicBytes)
        self.seed = seed
        self.publicKey = try Ed25519PublicKey(rawRepresentation: publicBytes)
    }

    /// libsodium's secret key for `seed`, kept only if libsodium derives the public key libcrypto
    /// derived: a disagreement would be a broken library, and libcrypto then signs alone.
    private static func sodiumSecret(seed: [UInt8], expecting publicKey: [UInt8]) -> UnsafeMutableBufferPointer<UInt8>?
    {
        guard Ed25519.libsodiumVerifies else { return nil }
        let secret = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: Int(crypto_sign_ed25519_SECRETKEYBYTES))
        var derived = [UInt8](repeating: 0, count: Ed25519.publicKeyByteCount)
        let ok = derived.withUnsafeMutableBufferPointer { derived in
            seed.withUnsafeBufferPointer {
                crypto_sign_ed25519_seed_keypair(derived.baseAddress!, secret.baseAddress!, $0.baseAddress!)
            }
        }
        guard ok == 0, derived == publicKey else {
            sodium_memzero(secret.baseAddress!, secret.count)
            secret.deallocate()
            return nil
        }
        return secret
    }

    /// A new key from the system's secure random generator.
    public static func generate() throws(CryptoError) -> Ed25519PrivateKey {
        try Ed25519PrivateKey(seed: SecureRandom.bytes(Ed25519.seedByteCount))
    }

    deinit {
        EVP_PKEY_free(key)
        if let sodiumSecret {
            sodium_memzero(sodiumSecret.baseAddress!, sodiumSecret.count)
            sodiumSecret.deallocate()
        }
    }

    public func sign(_ message: some Collection<UInt8>) throws(CryptoError) -> [UInt8] {
        let bytes = Array(message)
        if let sodiumSecret {
            var signature = [UInt8](repeating: 0, count: Ed25519.signatureByteCount)
            let ok = withUnsafePointer(to: 0 as UInt8) { empty in
                signature.withUnsafeMutableBufferPointer { out in
                    bytes.withUnsafeBufferPointer { input in
                        crypto_sign_ed25519_detached(
                            out.baseAddress!,
                            nil,
                            input.baseAddress ?? empty,
                            UInt64(input.count),
                            sodiumSecret.baseAddress!
                        )
                    }
                }
            }
            guard ok == 0 else {
                throw CryptoError(.libsodiumFailure, "libsodium failed to produce an Ed25519 signature")
            }
            return signature
        }
        return try libcryptoSignature(bytes)
    }

    /// The signature as libcrypto makes it: the path when libsodium is unavailable, and what the
    /// tests hold libsodium's to.
    func libcryptoSignature(_ bytes: [UInt8]) throws(CryptoError) -> [UInt8] {
        guard let context = template.context() else {
            throw CryptoError(.openSSLFailure, "libcrypto could not start an Ed25519 signature")
        }
        defer { EVP_MD_CTX_free(context) }
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
/// every ``isValidSignature(_:for:)`` uses its own context (a copy of the key's template), so it
/// is safe to share across threads.
///
/// What it accepts is pinned in spec/format.md §1.3 and by `spec/vectors/ed25519-edge-cases.json`.
public final class Ed25519PublicKey: @unchecked Sendable, Hashable, CustomStringConvertible {
    private let key: OpaquePointer
    private let template: Ed25519ContextTemplate
    public let rawRepresentation: [UInt8]
    /// `SHA-256(0x01 ‖ public key)`: the full-length key identifier Retrace statements name their
    /// signer by. The 4-byte signed-note key id is too short to be unambiguous across a roster.
    /// Computed once: every signature check compares it with the statement's signer, and hashing
    /// it there was three allocations and a hash per audited entry (issue 15).
    public let fingerprint: [UInt8]
    /// Whether libsodium's answer stands for this key: it refuses every signature under a key of
    /// small order or one encoded with `y ≥ p`, which the rules judge by the equation.
    let libsodiumDecides: Bool

    public convenience init(rawRepresentation bytes: [UInt8]) throws(CryptoError) {
        try self.init(rawRepresentation: bytes, libsodiumVerifies: Ed25519.libsodiumVerifies)
    }

    /// `libsodiumVerifies` stated rather than read from ``Ed25519/libsodiumVerifies``: the
    /// self-check that decides that flag builds its keys with this, trusting libsodium on trial.
    init(rawRepresentation bytes: [UInt8], libsodiumVerifies: Bool) throws(CryptoError) {
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
        self.template = Ed25519ContextTemplate(key: key, operation: .verify)
        self.rawRepresentation = bytes
        self.fingerprint = SHA256.hash([NoteKey.ed25519Algorithm] + bytes)
        self.libsodiumDecides = libsodiumVerifies && Self.libsodiumCanDecide(key: bytes)
    }

    deinit { EVP_PKEY_free(key) }

    /// Whether `signature` is a valid RFC 8032 signature of `message` by this key.
    ///
    /// A signature of the wrong length is simply invalid: a verifier must never crash or throw on
    /// attacker-supplied bytes.
    public func isValidSignature(_ signature: [UInt8], for message: some Collection<UInt8>) -> Bool {
        guard signature.count == Ed25519.signatureByteCount else { return false }
        // A local function, not a closure stored in a constant: the closure's context was
        // allocated on the heap at every signature check.
        func check(_ input: UnsafeBufferPointer<UInt8>) -> Bool {
            signature.withUnsafeBufferPointer { verify($0, input, useLibsodium: libsodiumDecides) }
        }
        if let result = message.withContiguousStorageIfAvailable(check) { return result }
        return Array(message).withUnsafeBufferPointer(check)
    }

    /// libsodium first where its answer stands; libcrypto for a strict refusal the rules may
    /// overturn (an `R` of small order: the equation decides) and for keys libsodium refuses.
    /// `useLibsodium: false` is libcrypto alone, which the tests hold the combination to.
    func verify(
        _ signature: UnsafeBufferPointer<UInt8>,
        _ message: UnsafeBufferPointer<UInt8>,
        useLibsodium: Bool
    ) -> Bool {
        if useLibsodium {
            if Sodium.verify(signature, message, key: rawRepresentation) { return true }
            guard Self.hasSmallOrder(Array(signature[0..<Ed25519.publicKeyByteCount])) else { return false }
        }
        guard let context = template.context() else { return false }
        defer { EVP_MD_CTX_free(context) }
        return EVP_DigestVerify(context, signature.baseAddress, signature.count, message.baseAddress, message.count)
            == 1
    }

    /// Whether libsodium's answer can stand for signatures under `key`.
    static func libsodiumCanDecide(key: [UInt8]) -> Bool { !hasSmallOrder(key) && isCanonicalEncoding(key) }

    public static func == (lhs: Ed25519PublicKey, rhs: Ed25519PublicKey) -> Bool {
        lhs.rawRepresentation == rhs.rawRepresentation
    }
    public func hash(into hasher: inout Hasher) { hasher.combine(rawRepresentation) }
    public var description: String { "Ed25519PublicKey(\(Hex.encode(rawRepresentation)))" }
}

extension Ed25519PublicKey {
    /// Whether the key is a point of small order (order 1, 2, 4 or 8), under any encoding.
    ///
    /// Retrace's verification accepts signatures under such keys when the equation holds
    /// (spec/format.md §1.3), and for them it holds for forged signatures: with the identity as the
    /// key, `R` the identity and `S = 0` verify every message. Honest key generation never yields
    /// one (`A = [a]B` has order `L`), so a key of small order is refused wherever it would be
    /// trusted (a roster, a log or witness key), which closes that door without changing what a
    /// signature check accepts.
    ///
    /// The curve's 8-torsion has five `y` coordinates (1, −1, 0 and the two of order 8); `y = 0`
    /// and `y = 1` also have the non-canonical encodings `p` and `p + 1`, and each encoding comes
    /// with either sign bit: the 14 encodings below, the same set as libsodium's blocklist and the
    /// ZIP 215 small-order test set (`spec/vectors/ed25519-edge-cases.json`).
    public var hasSmallOrder: Bool { Self.hasSmallOrder(rawRepresentation) }

    /// ``hasSmallOrder`` of 32 key bytes, for a parser that checks before it builds the key.
    public static func hasSmallOrder(_ bytes: [UInt8]) -> Bool {
        guard bytes.count == Ed25519.publicKeyByteCount else { return false }
        var y = bytes
        y[31] &= 0x7f
        return smallOrderYs.contains(y)
    }

    /// Whether the key's `y` is below `p = 2^255 − 19` (RFC 8032 §5.1.3 decoding without the
    /// relaxation): the 19 encodings of `y` in `[p, 2^255)`, with either sign bit, are the
    /// non-canonical ones, which libsodium refuses as keys and Retrace's rules accept.
    static func isCanonicalEncoding(_ bytes: [UInt8]) -> Bool {
        guard bytes.count == Ed25519.publicKeyByteCount, bytes[31] & 0x7f == 0x7f, bytes[0] >= 0xed else { return true }
        return !bytes[1..<31].allSatisfy { $0 == 0xff }
    }

    private static let smallOrderYs: [[UInt8]] = {
        let ff = [UInt8](repeating: 0xff, count: 30)
        return [
            [UInt8](repeating: 0, count: 32),  // y = 0, order 4
            [0x01] + [UInt8](repeating: 0, count: 31),  // y = 1, the identity
            [0xec] + ff + [0x7f],  // y = p − 1 = −1, order 2
            [0xed] + ff + [0x7f],  // y = p ≡ 0, non-canonical
            [0xee] + ff + [0x7f],  // y = p + 1 ≡ 1, non-canonical
            Hex.decode("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05")!,  // order 8
            Hex.decode("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a")!,  // order 8
        ]
    }()
}

/// A signing or verification context initialised once per key, copied for every operation.
///
/// In OpenSSL 3 `EVP_DigestSignInit`/`EVP_DigestVerifyInit` fetch the algorithm from the provider
/// (a locked lookup in the method store), allocate an `EVP_PKEY_CTX` and the provider's context,
/// and encode an AlgorithmIdentifier: about 2 µs here, 2–3 % of a verification and 5–7 % of a
/// signature (BENCHMARKS.md, "The signature floor"). Copying an initialised context
/// (`EVP_MD_CTX_copy_ex`, about 0.15 µs) skips all of that: the provider's `dupctx` copies a
/// small struct and takes a reference on the key. The template is written only here, in `init`,
/// and only read afterwards (the copy takes it as `const` and changes nothing but atomic
/// reference counts), so threads may copy it concurrently. OpenSSL 3.0 has no one-shot `EVP_PKEY_verify_message_*`
/// (3.4) nor `EVP_MD_CTX_dup` (3.1). Should the template be missing or a copy fail, the context
/// is initialised the slow way, so the answer never depends on this optimisation.
final class Ed25519ContextTemplate {
    enum Operation { case sign, verify }

    private let key: OpaquePointer
    private let operation: Operation
    private let template: OpaquePointer?

    /// `key` belongs to the owner of the template, which calls ``context()`` only while it holds
    /// the key; the template's own context keeps a reference on the key of its own.
    init(key: OpaquePointer, operation: Operation) {
        self.key = key
        self.operation = operation
        self.template = Self.initialised(key: key, operation: operation)
    }

    deinit { EVP_MD_CTX_free(template) }

    /// A fresh context ready for one `EVP_DigestSign`/`EVP_DigestVerify`; the caller frees it.
    func context() -> OpaquePointer? {
        if let template, let copy = EVP_MD_CTX_new() {
            if EVP_MD_CTX_copy_ex(copy, template) == 1 { return copy }
            EVP_MD_CTX_free(copy)
        }
        return Self.initialised(key: key, operation: operation)
    }

    private static func initialised(key: OpaquePointer, operation: Operation) -> OpaquePointer? {
        guard let context = EVP_MD_CTX_new() else { return nil }
        let ok =
            switch operation {
            case .sign: EVP_DigestSignInit(context, nil, nil, nil, key)
            case .verify: EVP_DigestVerifyInit(context, nil, nil, nil, key)
            }
        guard ok == 1 else {
            EVP_MD_CTX_free(context)
            return nil
        }
        return context
    }
}
