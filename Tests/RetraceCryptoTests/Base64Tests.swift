import Foundation
import RetraceCrypto
import Testing

@Suite("Base64: RFC 4648 §4, one spelling per byte string")
struct Base64Tests {
    @Test(
        "the RFC 4648 §10 test vectors encode and decode",
        arguments: [
            ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy"),
        ]
    )
    func rfcVectors(_ plain: String, _ encoded: String) {
        #expect(Base64.encode(Array(plain.utf8)) == encoded)
        #expect(Base64.decode(encoded) == Array(plain.utf8))
    }

    @Test("every length up to 100 and every byte value round-trip, and encode as Foundation does")
    func roundTrips() {
        var generator = SystemRandomNumberGenerator()
        for length in 0...100 {
            let bytes = (0..<length).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
            let encoded = Base64.encode(bytes)
            #expect(encoded == Data(bytes).base64EncodedString(), "length \(length)")
            #expect(Base64.decode(encoded) == bytes, "length \(length)")
        }
        let all = Array(UInt8.min...UInt8.max)
        #expect(Base64.decode(Base64.encode(all)) == all)
    }

    @Test(
        "a spelling that is not the canonical one is refused",
        arguments: [
            "Zg", "Zg=", "Zm9", "Zh==", "Zm9=", "Zm8", "Zm9v\n", " Zm9v", "Zm9-", "Zm9_", "Zg==Zg==", "=", "====",
            "A===", "Zm9vY===", "Zm9v=", "Zm=v", "Zé==",
        ]
    )
    func refusals(_ text: String) {
        #expect(Base64.decode(text) == nil)
    }

    /// Foundation, with the re-encoding check that made it strict, is the independent oracle: any
    /// string of base64 symbols and padding is accepted by both or refused by both, with the same bytes.
    @Test("random strings of the alphabet and padding are judged as Foundation plus re-encoding judges them")
    func agreesWithFoundation() {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
        var generator = SystemRandomNumberGenerator()
        var accepted = 0
        for _ in 0..<20_000 {
            let length = Int.random(in: 0...12, using: &generator)
            var text = String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
            // Often well-formed but for its last symbols, where canonical form is decided.
            if Bool.random(using: &generator), length >= 4 {
                text = String(text.prefix(length / 4 * 4 - 2).filter { $0 != "=" }) + "=="
                while text.count % 4 != 0 { text = "A" + text }
            }
            let oracle = Data(base64Encoded: text).map { [UInt8]($0) }.flatMap {
                Data($0).base64EncodedString() == text ? $0 : nil
            }
            #expect(Base64.decode(text) == oracle, "\(text)")
            if oracle != nil { accepted += 1 }
        }
        #expect(accepted > 100)
    }

    /// The decoder looks each byte up in a table of all 256: every byte outside the alphabet must
    /// be refused in every position of a group, and every symbol read as its value.
    @Test("every byte that is no symbol is refused at each position of a group; every symbol decodes")
    func everyByte() {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        for byte in UInt8.min...UInt8.max {
            if let value = alphabet.firstIndex(of: byte) {
                // The symbol first, then "AAA": its six bits are the top of the first byte.
                let decoded = decode([byte] + Array("AAA".utf8))
                #expect(decoded == [UInt8(value << 2), 0, 0], "symbol \(byte)")
                continue
            }
            for position in 0..<4 {
                var text = Array("QUJD".utf8)
                text[position] = byte
                #expect(decode(text) == nil, "byte \(byte) at \(position)")
            }
        }
    }

    /// Through the buffer entry point, which reads bytes that are no valid UTF-8 as they are
    /// (a `String` would repair them first).
    private func decode(_ text: [UInt8]) -> [UInt8]? {
        text.withUnsafeBufferPointer { Base64.decode(utf8: $0) }
    }
}
