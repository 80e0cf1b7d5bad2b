import RetraceCrypto
import Testing

@Suite("Ed25519 (RFC 8032 §7.1)")
struct Ed25519Tests {
    struct Vector: Sendable, CustomTestStringConvertible {
        let name, seed, publicKey, message, signature: String
        var testDescription: String { name }
    }

    static let vectors: [Vector] = [
        Vector(
            name: "TEST 1",
            seed: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
            publicKey: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
            message: "",
            signature: "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
                + "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        ),
        Vector(
            name: "TEST 2",
            seed: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
            publicKey: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
            message: "72",
            signature: "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
                + "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"
        ),
        Vector(
            name: "TEST 3",
            seed: "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
            publicKey: "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
            message: "af82",
            signature: "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
                + "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"
        ),
        Vector(
            name: "TEST SHA(abc)",
            seed: "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
            publicKey: "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
            message: "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                + "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
            signature: "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b589"
                + "09351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704"
        ),
    ]

    @Test("seed gives the RFC public key and signature, and the signature verifies", arguments: vectors)
    func knownAnswer(vector: Vector) throws {
        let key = try Ed25519PrivateKey(seed: Hex.decode(vector.seed)!)
        let message = Hex.decode(vector.message)!
        #expect(Hex.encode(key.publicKey.rawRepresentation) == vector.publicKey)
        let signature = try key.sign(message)
        #expect(Hex.encode(signature) == vector.signature)
        let verifier = try Ed25519PublicKey(rawRepresentation: Hex.decode(vector.publicKey)!)
        #expect(verifier.isValidSignature(signature, for: message))
    }

    @Test("a flipped bit in message or signature, or a truncated signature, fails verification", arguments: vectors)
    func tamper(vector: Vector) throws {
        let verifier = try Ed25519PublicKey(rawRepresentation: Hex.decode(vector.publicKey)!)
        let message = Hex.decode(vector.message)!
        let signature = Hex.decode(vector.signature)!
        for index in signature.indices {
            var bad = signature
            bad[index] ^= 0x01
            #expect(!verifier.isValidSignature(bad, for: message))
        }
        #expect(!verifier.isValidSignature(Array(signature.dropLast()), for: message))
        #expect(!verifier.isValidSignature(signature, for: message + [0]))
    }

    @Test("keys of the wrong length are refused with invalidKeyLength")
    func wrongLengths() {
        #expect(throws: CryptoError(.invalidKeyLength, "")) { try Ed25519PrivateKey(seed: [1, 2, 3]) }
        #expect(throws: CryptoError(.invalidKeyLength, "")) { try Ed25519PublicKey(rawRepresentation: []) }
    }

    @Test("generated keys are distinct and sign verifiably")
    func generated() throws {
        let a = try Ed25519PrivateKey.generate()
        let b = try Ed25519PrivateKey.generate()
        #expect(a.seed != b.seed)
        let signature = try a.sign(Array("hello".utf8))
        #expect(a.publicKey.isValidSignature(signature, for: Array("hello".utf8)))
        #expect(!b.publicKey.isValidSignature(signature, for: Array("hello".utf8)))
    }
}
