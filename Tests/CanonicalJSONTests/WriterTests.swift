import CanonicalJSON
import Testing

/// The writer's byte output for values built in memory.
@Suite("Canonical writer")
struct WriterTests {
    @Test("Every control character gets the RFC 8785 escape, lowercase hex")
    func controlEscapes() throws {
        let short: [UInt8: String] = [0x08: #"\b"#, 0x09: #"\t"#, 0x0A: #"\n"#, 0x0C: #"\f"#, 0x0D: #"\r"#]
        let hex = Array("0123456789abcdef")
        for code in UInt8(0)..<0x20 {
            let expected = short[code] ?? "\\u00\(hex[Int(code >> 4)])\(hex[Int(code & 0xF)])"
            let encoded = try CanonicalJSON.encode(.string(String(UnicodeScalar(code))))
            #expect(encoded == bytes("\"\(expected)\""), "U+00\(String(code, radix: 16))")
        }
    }

    @Test("Quote and backslash are escaped; '/', DEL, U+2028 and non-ASCII are literal")
    func literalCharacters() throws {
        let value = JSONValue.string("\"\\/\u{7F}\u{2028}é😀")
        #expect(try CanonicalJSON.encode(value) == bytes("\"\\\"\\\\/\u{7F}\u{2028}é😀\""))
    }

    @Test(
        "Integers print in shortest decimal form",
        arguments: [
            (Int64(0), "0"), (7, "7"), (-7, "-7"), (10, "10"), (1_000_000, "1000000"), (-1_234_567_890, "-1234567890"),
            (JSONValue.maxSafeInteger, "9007199254740991"), (-JSONValue.maxSafeInteger, "-9007199254740991"),
        ]
    )
    func integers(value: Int64, text: String) throws {
        #expect(try CanonicalJSON.encode(.integer(value)) == bytes(text))
    }

    @Test(
        "Integers beyond ±(2^53−1) are refused on encode, with their path",
        arguments: [
            Int64(9_007_199_254_740_992), -9_007_199_254_740_992, .max, .min,
        ]
    )
    func integerOutOfRange(value: Int64) throws {
        let tree: JSONValue = ["outer": ["list": [1, .integer(value)]]]
        let error = try #require(caught { try CanonicalJSON.encode(tree) })
        #expect(error.code == .integerOutOfRange)
        #expect(error.path == "outer.list[1]")
    }

    @Test("Encoding refuses nesting beyond maxDepth so the output is always readable back")
    func encodeDepth() throws {
        var value = JSONValue.array([])
        for _ in 1..<64 { value = .array([value]) }
        let encoded = try CanonicalJSON.encode(value)
        #expect(refusal(encoded) == nil)
        let deeper = JSONValue.array([value])
        #expect(caught { try CanonicalJSON.encode(deeper) }?.code == .tooDeep)
        #expect(try CanonicalJSON.encode(deeper, maxDepth: 65).count == 130)
    }

    @Test("encode(_:appendingTo:) appends after existing bytes and leaves them alone on error")
    func appending() throws {
        var buffer = bytes("prefix:")
        try CanonicalJSON.encode(["a": [true, false, .null]], appendingTo: &buffer)
        #expect(buffer == bytes(#"prefix:{"a":[true,false,null]}"#))
        var untouched = bytes("x")
        #expect(caught { try CanonicalJSON.encode(["a": .integer(.max)], appendingTo: &untouched) } != nil)
        #expect(untouched == bytes("x"))
    }

    @Test("description is the canonical text")
    func description() {
        let value: JSONValue = ["b": ["x", 1, true], "a": .null]
        #expect(value.description == #"{"a":null,"b":["x",1,true]}"#)
        #expect(JSONValue.integer(.max).description == "9223372036854775807")
    }

    @Test("Decoding canonical bytes and re-encoding gives the same bytes")
    func roundTrip() throws {
        let input = bytes(#"{"":[],"a":{"b":[-1,0,1,"x\n",{}]},"z":false}"#)
        #expect(try CanonicalJSON.encode(CanonicalJSON.decode(input)) == input)
    }
}
