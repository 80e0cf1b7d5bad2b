import RetraceCrypto
import Testing

/// Hex is how ids, signers and digests are spelled in statements: decoding must refuse exactly what
/// is not hex, wherever the bad character sits.
struct HexTests {
    @Test("known answers both ways; uppercase decodes, lowercase is written")
    func knownAnswers() {
        #expect(Hex.encode([0x00, 0x01, 0xab, 0xff]) == "0001abff")
        #expect(Hex.decode("0001abff") == [0x00, 0x01, 0xab, 0xff])
        #expect(Hex.decode("0001ABFF") == [0x00, 0x01, 0xab, 0xff])
        #expect(Hex.decode("") == [])
        let all = (0...255).map(UInt8.init)
        #expect(Hex.decode(Hex.encode(all)) == all)
    }

    @Test("odd lengths and non-hex characters at any position are refused", arguments: 0..<8)
    func refusals(position: Int) {
        var text = Array("0123456789abcdef".utf8)
        text[position * 2 + position % 2] = UInt8(ascii: "g")
        #expect(Hex.decode(String(decoding: text, as: UTF8.self)) == nil)
        #expect(Hex.decode(String(repeating: "a", count: 2 * position + 1)) == nil)
    }

    @Test("a string built at run time decodes alike; a non-ASCII character is refused")
    func builtAndNonASCII() {
        let text = "00ff" + String("10ee".reversed().reversed())
        #expect(Hex.decode(text) == [0x00, 0xff, 0x10, 0xee])
        #expect(Hex.decode("é") == nil)  // two UTF-8 bytes: an even length, neither a hex digit
    }
}
