import RetraceIdentity
import Testing

/// Inputs the FuzzIdentity fuzz target (Fuzz/, FUZZING.md) found, kept so the bugs stay fixed.
@Suite("Fuzzing regressions: identities")
struct FuzzRegressionTests {
    /// Non-ASCII scalars that Swift's `Character` equality (canonical equivalence) treats as one of the
    /// 82 characters: U+037E GREEK QUESTION MARK is `;`, U+212A KELVIN SIGN is `K`.
    static let lookalikes: [(scalar: String, name: String)] = [("\u{37E}", "U+037E"), ("\u{212A}", "U+212A")]

    @Test("the crashing fuzz input: a Greek question mark in a human-readable serial is refused where it stands")
    func greekQuestionMarkInSerial() {
        // FuzzIdentity crash-98154e7be5c5bdcb59831b6d18e2b4f44be788a7: the parser accepted serial "A(;(" whose
        // ';' was U+037E, so the SGTIN compared equal to the ASCII one yet had another Digital Link.
        expectRefused("(01)09506000134352(21)A(\u{37E}(", .illegalCharacter, at: 24, mentioning: ["U+037E"])
    }

    @Test("characters canonically equivalent to character set 82 are refused in every form", arguments: lookalikes)
    func canonicalEquivalentsRefused(scalar: String, name: String) {
        expectFailure(.illegalCharacter, at: 1, mentioning: [name]) {
            () throws(IdentityError) in _ = try Serial("A\(scalar)")
        }
        expectRefused("(01)09506000134352(21)A\(scalar)", .illegalCharacter, at: 23, mentioning: [name])
        expectRefused("010950600013435221A\(scalar)", .illegalCharacter, at: 19, mentioning: [name])
        expectRefused("(01)09506000134352(10)L\(scalar)(21)A", .illegalCharacter, at: 23, mentioning: [name])
        let escaped = scalar.utf8.map { "%" + String($0, radix: 16, uppercase: true) }.joined()
        expectRefused("https://id.gs1.org/01/09506000134352/21/A\(escaped)", .illegalCharacter)
    }

    @Test("the ASCII characters those scalars resemble are still accepted, so only the lookalikes are refused")
    func asciiOriginalsAccepted() throws {
        #expect(try Serial("A;K").value == "A;K")
        let link = try scan("(01)09506000134352(21)A;K").sgtin.digitalLink
        #expect(link == "https://id.gs1.org/01/09506000134352/21/A%3BK")
    }
}
