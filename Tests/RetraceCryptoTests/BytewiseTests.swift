import RetraceCrypto
import Testing

@Suite("Bytewise order")
struct BytewiseTests {
    /// Against the generic element-by-element order, over lengths that cross the 8-byte steps and
    /// bytes that differ in their high bit (an unsigned comparison, not a signed one).
    @Test func agreesWithLexicographicOrder() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = [0x00, 0x01, 0x7f, 0x80, 0xc3, 0xff]
        for _ in 0..<20_000 {
            let left = (0..<Int.random(in: 0...20, using: &generator)).map { _ in
                alphabet.randomElement(using: &generator)!
            }
            var right = left
            switch Int.random(in: 0..<3, using: &generator) {
            case 0:
                right = (0..<Int.random(in: 0...20, using: &generator)).map { _ in
                    alphabet.randomElement(using: &generator)!
                }
            case 1:
                if !right.isEmpty {
                    right[Int.random(in: 0..<right.count, using: &generator)] = alphabet.randomElement(
                        using: &generator
                    )!
                }
            default: right = Array(right.prefix(Int.random(in: 0...right.count, using: &generator)))
            }
            #expect(Bytewise.precedes(left, right) == left.lexicographicallyPrecedes(right), "\(left) \(right)")
            let equal = left.withUnsafeBytes { left in right.withUnsafeBytes { Bytewise.equal(left, $0) } }
            #expect(equal == (left == right), "\(left) \(right)")
        }
    }

    /// Strings compare by their UTF-8 bytes, not by Unicode: "é" (C3 A9) after "e" + U+0301
    /// (65 CC 81), which `String`'s `<` calls equal.
    @Test func stringsCompareByTheirUTF8() {
        let composed = "https://id.gs1.org/01/09506000134352/21/\u{E9}"
        let decomposed = "https://id.gs1.org/01/09506000134352/21/e\u{301}"
        #expect(Bytewise.precedes(decomposed, composed))
        #expect(!Bytewise.precedes(composed, decomposed))
        #expect(!Bytewise.precedes(composed, composed))
        #expect(!Bytewise.equal(composed, decomposed), "equal as Unicode, not as bytes")
        #expect(composed == decomposed)
        #expect(Bytewise.equal(composed, "https://id.gs1.org/01/09506000134352/21/" + String("\u{E9}")))
        #expect(Bytewise.precedes("abc", "abcd"))
        #expect(Bytewise.precedes("https://id.gs1.org/01/0950600013435 2", "https://id.gs1.org/01/09506000134352"))
    }
}
