import CanonicalJSON
import Testing

/// Known answers from RFC 8785 itself, and from the test vectors published by its first author
/// (cyberphone/json-canonicalization, testdata/), restricted to what an integer-only profile carries.
@Suite("RFC 8785 examples")
struct RFC8785ExampleTests {
    /// RFC 8785 §3.2.3: the property-sorting example, written as in the RFC (escapes, whitespace).
    static let sortingInput = #"""
        {
          "\u20ac": "Euro Sign",
          "\r": "Carriage Return",
          "\ufb33": "Hebrew Letter Dalet With Dagesh",
          "1": "One",
          "\ud83d\ude00": "Emoji: Grinning Face",
          "\u0080": "Control",
          "\u00f6": "Latin Small Letter O With Diaeresis"
        }
        """#

    @Test("§3.2.3 sorting example gives the RFC's key order")
    func sortingOrder() throws {
        let value = try CanonicalJSON.decode(bytes(Self.sortingInput), options: .lenient)
        let keys = try #require(value.objectValue).keys
        #expect(keys == ["\r", "1", "\u{80}", "\u{F6}", "\u{20AC}", "\u{1F600}", "\u{FB33}"])
    }

    @Test("§3.2.3 sorting example serialises to the expected bytes")
    func sortingBytes() throws {
        let expected =
            #"{"\r":"Carriage Return","1":"One","\#u{80}":"Control","#
            + #""\#u{F6}":"Latin Small Letter O With Diaeresis","\#u{20AC}":"Euro Sign","#
            + #""\#u{1F600}":"Emoji: Grinning Face","\#u{FB33}":"Hebrew Letter Dalet With Dagesh"}"#
        #expect(try canonicalize(Self.sortingInput) == expected)
        // The canonical bytes are themselves accepted by the strict reader.
        #expect(refusal(bytes(expected)) == nil)
    }

    /// RFC 8785 §3.2.2.2 string example (the "string" property of the §3.2.2 input).
    static let stringInput = #""\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/""#
    static let stringOutput = #""€$\u000f\nA'B\"\\\\\"/""#

    @Test("§3.2.2.2 string serialisation example")
    func stringExample() throws {
        #expect(try canonicalize(Self.stringInput) == Self.stringOutput)
        let value = try CanonicalJSON.decode(bytes(Self.stringInput), options: .lenient)
        #expect(value == .string("\u{20AC}$\u{0F}\nA'B\"\\\\\"/"))
        #expect(refusal(bytes(Self.stringOutput)) == nil)
    }

    @Test("§3.2.2.2 input is refused as non-canonical at its first escape")
    func stringExampleNotCanonical() throws {
        let error = try #require(refusal(bytes(Self.stringInput)))
        #expect(error.code == .notCanonical)
        #expect(error.offset == 1)
        #expect(error.reason.contains("expected byte 0xe2"))
    }

    /// RFC 8785 §3.2.2: the full example, whose numbers are floats.
    static let fullExample = #"""
        {
          "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
          "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
          "literals": [null, true, false]
        }
        """#

    @Test(
        "§3.2.2 example with floats is refused with floatNotAllowed at the first number",
        arguments: [
            ReadOptions.strict, ReadOptions.lenient,
        ]
    )
    func fullExampleRefused(options: ReadOptions) throws {
        let error = try #require(refusal(bytes(Self.fullExample), options: options))
        #expect(error.code == .floatNotAllowed)
        let offset = try #require(byteOffset(of: "333333333", in: Self.fullExample))
        #expect(error.offset == offset)
    }

    @Test(
        "§3.2.2 example numbers are each refused",
        arguments: [
            "333333333.33333329", "1E30", "4.50", "2e-3", "0.000000000000000000000000001",
        ]
    )
    func fullExampleNumbers(number: String) {
        #expect(refusal(bytes(number), options: .lenient)?.code == .floatNotAllowed)
        #expect(refusal(bytes("[\(number)]"))?.code == .floatNotAllowed)
    }

    @Test("§3.2.2 example without its numbers gives the RFC's bytes for literals and string")
    func fullExampleWithoutNumbers() throws {
        let input = #"""
            {
              "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
              "literals": [null, true, false]
            }
            """#
        #expect(try canonicalize(input) == #"{"literals":[null,true,false],"string":"€$\u000f\nA'B\"\\\\\"/"}"#)
    }

    @Test(
        "Appendix B integer boundaries: 0, ±(2^53−1) accepted",
        arguments: [
            ("0", Int64(0)), ("-1", -1), ("9007199254740991", 9_007_199_254_740_991),
            ("-9007199254740991", -9_007_199_254_740_991),
        ]
    )
    func safeIntegers(text: String, value: Int64) throws {
        #expect(try CanonicalJSON.decode(bytes(text)) == .integer(value))
        #expect(try CanonicalJSON.encode(.integer(value)) == bytes(text))
    }

    @Test(
        "Appendix B values beyond the safe range are refused",
        arguments: [
            "9007199254740992", "-9007199254740992", "295147905179352830000", "18446744073709551616",
        ]
    )
    func unsafeIntegers(text: String) {
        let error = refusal(bytes(text))
        #expect(error?.code == .integerOutOfRange)
        #expect(error?.offset == 0)
    }

    @Test("Reference vectors: structures.json (with 56.0 written as 56)")
    func structures() throws {
        let input = """
            {
              "1": {"f": {"f": "hi","F": 5} ,"\\n": 56},
              "10": { },
              "": "empty",
              "a": { },
              "111": [ { } ],
              "A": { }
            }
            """
        let expected = #"{"":"empty","1":{"\n":56,"f":{"F":5,"f":"hi"}},"10":{},"111":[{}],"A":{},"a":{}}"#
        #expect(try canonicalize(input) == expected)
        #expect(refusal(bytes(#"{"\n": 56.0}"#), options: .lenient)?.code == .floatNotAllowed)
    }

    @Test("Reference vectors: arrays.json")
    func arrays() throws {
        let input = "[\n  56,\n  {\n    \"d\": true,\n    \"10\": null,\n    \"1\": [ ]\n  }\n]"
        #expect(try canonicalize(input) == #"[56,{"1":[],"10":null,"d":true}]"#)
    }

    @Test("Reference vectors: french.json sorts by code units, not locale")
    func french() throws {
        let input = """
            {
              "peach": "This sorting order",
              "péché": "is wrong according to French",
              "pêche": "but canonicalization MUST",
              "sin":   "ingnore locale"
            }
            """
        let expected =
            #"{"peach":"This sorting order","péché":"is wrong according to French","#
            + #""pêche":"but canonicalization MUST","sin":"ingnore locale"}"#
        #expect(try canonicalize(input) == expected)
    }

    @Test("Reference vectors: weird.json (DEL and U+0080 literal, surrogate pair sorted before U+FB33)")
    func weird() throws {
        let input = #"""
            {
              "\u20ac": "Euro Sign",
              "1": "One",
              "\u0080": "Control\u007f",
              "\ud83d\ude02": "Smiley",
              "\u00f6": "Latin Small Letter O With Diaeresis",
              "\ufb33": "Hebrew Letter Dalet With Dagesh",
              "</script>": "Browser Challenge"
            }
            """#
        let expected =
            "{\"1\":\"One\",\"</script>\":\"Browser Challenge\",\"\u{80}\":\"Control\u{7F}\","
            + "\"ö\":\"Latin Small Letter O With Diaeresis\",\"€\":\"Euro Sign\",\"😂\":\"Smiley\","
            + "\"\u{FB33}\":\"Hebrew Letter Dalet With Dagesh\"}"
        #expect(try canonicalize(input) == expected)
    }

    @Test("Reference vectors: unicode.json keeps unnormalised text as is")
    func unnormalized() throws {
        let output = try canonicalize(#"{"Unnormalized Unicode":"\u1e0d\u0307"}"#)
        #expect(Array(output.utf8) == bytes("{\"Unnormalized Unicode\":\"\u{1E0D}\u{307}\"}"))
        #expect(Array(output.utf8) != bytes("{\"Unnormalized Unicode\":\"\u{1E0B}\u{323}\"}"))
    }

    @Test("Reference vectors: simpleString.json hex output")
    func simpleString() throws {
        let hex = "22 74 68 69 73 20 69 73 20 61 20 74 65 73 74 20 73 74 72 69 6E 67 20 31 32 33 35 22"
        let expected = hex.split(separator: " ").compactMap { UInt8($0, radix: 16) }
        let value = try CanonicalJSON.decode(bytes("    \"this is a test string 1235\""), options: .lenient)
        #expect(try CanonicalJSON.encode(value) == expected)
    }
}
