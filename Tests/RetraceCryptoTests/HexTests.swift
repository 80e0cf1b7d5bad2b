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

    @Test("lowercase-only decoding: every byte value at each position of a pair, against the two-case decoder")
    func lowercaseOnly() {
        #expect(Hex.decodeLowercase("0001abff") == [0x00, 0x01, 0xab, 0xff])
        #expect(Hex.decodeLowercase("0001ABFF") == nil)
        #expect(Hex.decodeLowercase("0001aBff") == nil)
        #expect(Hex.decodeLowercase("abc") == nil)
        for byte in UInt8.min...0x7f {
            let character = String(decoding: [byte], as: UTF8.self)
            for position in 0..<2 {
                let text = position == 0 ? character + "0" : "0" + character
                let isLowercaseDigit = (0x30...0x39).contains(byte) || (0x61...0x66).contains(byte)
                if isLowercaseDigit {
                    #expect(Hex.decodeLowercase(text) == Hex.decode(text), "byte \(byte) at \(position)")
                    #expect(Hex.decodeLowercase(text) != nil)
                } else {
                    #expect(Hex.decodeLowercase(text) == nil, "byte \(byte) at \(position)")
                }
                let isDigit = isLowercaseDigit || (0x41...0x46).contains(byte)
                #expect((Hex.decode(text) != nil) == isDigit, "byte \(byte) at \(position), either case")
            }
        }
    }
}
