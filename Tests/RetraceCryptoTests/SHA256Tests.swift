import RetraceCrypto
import Testing

@Suite("SHA-256 (FIPS 180-2)")
struct SHA256Tests {
    @Test(
        "one-block, two-block and empty messages give the FIPS 180-2 digests",
        arguments: [
            ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            (
                "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
            ),
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ]
    )
    func knownAnswers(message: String, digest: String) {
        #expect(Hex.encode(SHA256.hash(Array(message.utf8))) == digest)
    }

    @Test("one million 'a' gives the FIPS 180-2 long-message digest")
    func millionA() {
        let digest = SHA256.hash([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))
        #expect(Hex.encode(digest) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test("prefixed hashes equal hashing the concatenation")
    func prefixed() {
        let left = [UInt8](repeating: 1, count: 32)
        let right = [UInt8](repeating: 2, count: 32)
        #expect(SHA256.hash(prefix: 1, left, right) == SHA256.hash([1] + left + right))
        #expect(SHA256.hash(prefix: 0, [9, 8, 7]) == SHA256.hash([0, 9, 8, 7]))
    }

    @Test("the parts of a three-part hash may be empty, and an inline digest holds the same bytes")
    func partsAndInlineDigests() throws {
        let message = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        let whole = SHA256.hash(message)
        for cut in [0, 1, 31, 32, 55, message.count] {
            for second in [cut, min(message.count, cut + 9)] {
                let (a, b, c) = (Array(message[..<cut]), Array(message[cut..<second]), Array(message[second...]))
                let parts = a.withUnsafeBytes { a in
                    b.withUnsafeBytes { b in c.withUnsafeBytes { c in SHA256.hash(a, b, c) } }
                }
                #expect(parts == whole, "cut at \(cut), \(second)")
                let inline = a.withUnsafeBytes { a in
                    b.withUnsafeBytes { b in c.withUnsafeBytes { c in SHA256Digest(hashing: a, b, c) } }
                }
                #expect(inline.bytes == whole)
            }
        }
        #expect(try #require(SHA256Digest(whole)).bytes == whole)
        #expect(SHA256Digest(whole) != SHA256Digest(hashing: SHA256.nothing))
        #expect(SHA256Digest(whole.dropLast()) == nil)
        // The array initializer and the generic one read the same bytes and refuse the same counts.
        #expect(SHA256Digest(whole[...]) == SHA256Digest(whole))
        #expect(SHA256Digest(whole + [0]) == nil && SHA256Digest(Array(whole.dropLast())) == nil)
        #expect(SHA256Digest([UInt8]()) == nil)
        #expect(SHA256Digest.zero.bytes == [UInt8](repeating: 0, count: 32))
        #expect(Hex.encode(SHA256Digest(hashing: SHA256.nothing).bytes) == Hex.encode(SHA256.hash([UInt8]())))
    }
}
