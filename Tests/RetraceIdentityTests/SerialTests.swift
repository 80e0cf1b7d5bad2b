import RetraceIdentity
import Testing

@Suite("Serials: 1 to 20 characters of GS1 character set 82")
struct SerialTests {
    static let charset82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"

    @Test("exactly the 82 listed printable ASCII characters are accepted; the other 13 are refused")
    func exactlyCharacterSet82() {
        var accepted = 0
        for value in UInt8(0x20)...UInt8(0x7E) {
            let character = Character(Unicode.Scalar(value))
            let ok = (try? Serial("A\(character)")) != nil
            #expect(ok == Self.charset82.contains(character), "character \(character)")
            if ok { accepted += 1 }
        }
        #expect(accepted == 82)
    }

    @Test(
        "serials are kept exactly, case and leading zeros included",
        arguments: [
            "0001", "abcABC", "!\"%&'()*+,-./:;<=>?_", "X", "12345678901234567890",
        ]
    )
    func keptVerbatim(text: String) throws {
        #expect(try Serial(text).value == text)
    }

    @Test("21 characters are refused with the length and the first excess position")
    func tooLong() {
        expectFailure(.serialTooLong, at: 20, mentioning: ["21 characters", "at most 20"]) {
            () throws(IdentityError) in _ = try Serial(String(repeating: "7", count: 21))
        }
    }

    @Test("an empty serial is refused")
    func empty() {
        expectFailure(.emptySerial) { () throws(IdentityError) in _ = try Serial("") }
    }

    @Test(
        "an illegal character is shown (escaped when unprintable) with its position",
        arguments: [
            ("AB C", 2, "U+0020 (space)"),
            ("#1", 0, "'#'"),
            ("abc~", 3, "'~'"),
            ("caf\u{E9}", 3, "'é' (U+00E9)"),
            ("A\u{1D}B", 1, "U+001D (GS, group separator)"),
            ("A\tB", 1, "U+0009 (tab)"),
        ]
    )
    func illegalCharacter(text: String, position: Int, shown: String) {
        expectFailure(.illegalCharacter, at: position, mentioning: [shown, "character set 82"]) {
            () throws(IdentityError) in _ = try Serial(text)
        }
    }
}
