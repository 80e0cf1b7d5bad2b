import Foundation
import Testing

@testable import RetraceCrypto

/// libsodium does the arithmetic of every signature and verification, libcrypto answers where
/// libsodium's strict rules would refuse what Retrace's accept (Sources/RetraceCrypto/Ed25519.swift).
/// These tests hold the combination to libcrypto alone, which the edge-case vectors pin: the same
/// answer for every case of the file and for thousands of random and tampered signatures, the same
/// signature bytes for every seed and message.
@Suite("Ed25519: libsodium beside libcrypto")
struct Ed25519LibsodiumTests {
    typealias EdgeCase = Ed25519EdgeCaseTests.EdgeCase

    /// The machine CI runs on has libsodium-dev installed (`.ci/run`); there the fast path must be
    /// on, or every figure of BENCHMARKS.md would be libcrypto's without anyone noticing.
    @Test("libsodium passed its self-check and does the arithmetic")
    func fastPathIsOn() {
        #expect(Ed25519SelfCheck.cases.count == 12)
        #expect(Ed25519.libsodiumVerifies, "\(Ed25519.implementation)")
        #expect(Ed25519.implementation.hasPrefix("libsodium 1."))
    }

    static func answers(_ item: EdgeCase) throws -> (combined: Bool, libcrypto: Bool, libsodium: Bool)? {
        let message = try #require(Hex.decode(item.message))
        let signature = try #require(Hex.decode(item.signature))
        let keyBytes = try #require(Hex.decode(item.publicKey))
        guard let key = try? Ed25519PublicKey(rawRepresentation: keyBytes), signature.count == 64 else { return nil }
        return signature.withUnsafeBufferPointer { signature in
            message.withUnsafeBufferPointer { message in
                (
                    key.verify(signature, message, useLibsodium: Ed25519PublicKey.libsodiumCanDecide(key: keyBytes)),
                    key.verify(signature, message, useLibsodium: false),
                    Sodium.verify(signature, message, key: keyBytes)
                )
            }
        }
    }

    /// spec/format.md §1.3 says libsodium alone refuses exactly the accepted cases with a key or an
    /// `R` of small order, or a key encoded with `y ≥ p`, and accepts nothing the rules refuse:
    /// checked here case by case, so the claim the combination rests on is a measured one.
    @Test("on every case of the file, libcrypto alone and the combination give the pinned answer")
    func everyEdgeCase() throws {
        var strictRefusals: [String] = []
        for item in Ed25519EdgeCaseTests.cases {
            guard let answer = try Self.answers(item) else { continue }
            #expect(answer.combined == item.valid, "\(item.name)")
            #expect(answer.libcrypto == item.valid, "\(item.name)")
            if answer.libsodium { #expect(item.valid, "libsodium accepted what the rules refuse: \(item.name)") }
            if answer.libsodium != item.valid {
                let key = try #require(Hex.decode(item.publicKey))
                let r = Array(try #require(Hex.decode(item.signature))[0..<32])
                #expect(
                    Ed25519PublicKey.hasSmallOrder(key) || !Ed25519PublicKey.isCanonicalEncoding(key)
                        || Ed25519PublicKey.hasSmallOrder(r),
                    "libsodium refused \(item.name) for a reason outside its strict checks"
                )
                strictRefusals.append(item.name)
            }
        }
        // speccheck 0, 1, 2 and 11 and the 12 accepted small-order pairs (spec/format.md §1.3).
        #expect(strictRefusals.count == 16, "\(strictRefusals)")
        #expect(
            strictRefusals.filter { $0.hasPrefix("speccheck") } == [
                "speccheck 0", "speccheck 1", "speccheck 2", "speccheck 11",
            ]
        )
    }

    /// Tampering of every kind an attacker has: a flipped bit anywhere in the signature or the
    /// message, `S + L` (the same scalar, unreduced), an `R` or a key replaced by a point of small
    /// order or by a non-canonical encoding, a signature under another key.
    @Test("random and tampered signatures: the combination answers as libcrypto alone, 4,000 times")
    func differential() throws {
        var generator = SystemRandomNumberGenerator()
        let order: [UInt8] = Hex.decode("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")!
        let smallOrder = Ed25519EdgeCaseTests.cases.filter { $0.group == "zip215-small-order" }.map {
            Hex.decode($0.publicKey)!
        }
        var accepted = 0
        for round in 0..<4_000 {
            let key = try Ed25519PrivateKey.generate()
            let message = (0..<Int.random(in: 0..<200, using: &generator)).map { _ in UInt8.random(in: 0...255) }
            var signature = try key.sign(message)
            var keyBytes = key.publicKey.rawRepresentation
            var signed = message
            switch round % 8 {
            case 0: break
            case 1: signature[Int.random(in: 0..<64)] ^= 1 << UInt8.random(in: 0..<8)
            case 2:
                if !signed.isEmpty { signed[Int.random(in: 0..<signed.count)] ^= 1 << UInt8.random(in: 0..<8) }
            case 3:  // S + L, little-endian
                var carry = 0
                for i in 0..<32 {
                    let sum = Int(signature[32 + i]) + Int(order[i]) + carry
                    signature[32 + i] = UInt8(sum & 0xff)
                    carry = sum >> 8
                }
            case 4: signature.replaceSubrange(0..<32, with: smallOrder.randomElement()!)
            case 5: keyBytes = smallOrder.randomElement()!
            case 6: keyBytes = [0xed + UInt8.random(in: 0...18)] + [UInt8](repeating: 0xff, count: 30) + [0x7f]
            default: keyBytes = try Ed25519PrivateKey.generate().publicKey.rawRepresentation
            }
            let verifier = try Ed25519PublicKey(rawRepresentation: keyBytes)
            let combined = verifier.isValidSignature(signature, for: signed)
            let alone = signature.withUnsafeBufferPointer { s in
                signed.withUnsafeBufferPointer { verifier.verify(s, $0, useLibsodium: false) }
            }
            #expect(combined == alone, "round \(round): \(Hex.encode(keyBytes)) \(Hex.encode(signature))")
            if round % 8 == 0 { #expect(combined) }
            if combined { accepted += 1 }
        }
        #expect(accepted >= 500)
    }

    @Test("libsodium's signatures are libcrypto's, byte for byte, for 500 seeds and messages")
    func sameSignatures() throws {
        for length in 0..<500 {
            let key = try Ed25519PrivateKey.generate()
            let message = (0..<length).map { _ in UInt8.random(in: 0...255) }
            #expect(try key.sign(message) == key.libcryptoSignature(message))
        }
    }

    /// The self-check is what keeps another libsodium from deciding with other rules; it must be
    /// able to fail. Each of the twelve cases, given the other answer, is caught.
    @Test("the self-check catches any one of its cases answered the other way")
    func selfCheckCanFail() {
        for item in Ed25519SelfCheck.cases {
            #expect(item.answeredAsPinned, "\(item.name)")
            let flipped = Ed25519SelfCheck.Case(
                item.name,
                message: Hex.encode(item.message),
                key: Hex.encode(item.key),
                signature: Hex.encode(item.signature),
                valid: !item.valid
            )
            #expect(!flipped.answeredAsPinned, "\(item.name)")
        }
    }
}
