import CanonicalJSON
import Testing

/// Object keys: duplicates, exact (non-normalising) comparison, UTF-16 ordering, ASCII-only option.
@Suite("Object keys")
struct ObjectKeyTests {
    @Test(
        "Duplicate keys are refused with the offset of the repeat",
        arguments: [
            (#"{"a":1,"a":2}"#, 7), (#"{"\u0061":1,"a":2}"#, 12), (#"{"a":1,"\u0061":2}"#, 7),
            (#"{"b":1,"a":2,"b":3}"#, 13), (#"{"b":1,"a":2,"a":3,"b":4}"#, 13), (#"{"x":{"k":1,"k":1}}"#, 12),
        ]
    )
    func duplicates(input: String, offset: Int) throws {
        for options in [ReadOptions.strict, .lenient] {
            let error = try #require(refusal(bytes(input), options: options))
            #expect(error.code == .duplicateKey)
            #expect(error.offset == offset)
        }
    }

    @Test("Precomposed and decomposed é are two distinct keys that round-trip")
    func precomposedAndDecomposed() throws {
        let precomposed = "\u{E9}"
        let decomposed = "e\u{301}"
        #expect(precomposed == decomposed)  // Swift's String == treats them as equal; JSON must not.
        var object = JSONObject()
        object[precomposed] = 1
        object[decomposed] = 2
        #expect(object.count == 2)
        #expect(object[precomposed] == 1)
        #expect(object[decomposed] == 2)
        let encoded = try CanonicalJSON.encode(.object(object))
        #expect(encoded == bytes("{\"e\u{301}\":2,\"\u{E9}\":1}"))
        let decoded = try CanonicalJSON.decode(encoded)
        #expect(decoded == .object(object))
        #expect(try CanonicalJSON.encode(decoded) == encoded)
        #expect(decoded.objectValue?.keys.map { $0.unicodeScalars.map(\.value) } == [[0x65, 0x301], [0xE9]])
        #expect(JSONValue.string(precomposed) != JSONValue.string(decomposed))
        #expect(Set([JSONValue.string(precomposed), .string(decomposed)]).count == 2)
    }

    @Test("Equivalent keys given as escapes are not duplicates of each other")
    func equivalentEscapes() throws {
        let value = try CanonicalJSON.decode(bytes(#"{"\u00e9":1,"e\u0301":2}"#), options: .lenient)
        #expect(value.objectValue?.count == 2)
    }

    static let orderingSamples = [
        "", "a", "ab", "b", "A", "\r", "1", "10", "\u{7F}", "\u{80}", "\u{F6}", "\u{E9}", "e\u{301}",
        "\u{20AC}", "\u{D7FF}", "\u{E000}", "\u{FB33}", "\u{FFFD}", "\u{FFFF}", "\u{10000}", "\u{1F600}",
        "\u{1F602}", "\u{10FFFF}", "a\u{FFFF}", "a\u{10000}", "\u{1F600}a", "\u{FB33}a",
    ]

    @Test("Keys sort exactly as their UTF-16 code unit arrays do")
    func utf16Order() throws {
        let object = JSONObject(
            Self.orderingSamples.enumerated().map {
                ($0.element, JSONValue.integer(Int64($0.offset)))
            }
        )
        let reference = Self.orderingSamples.sorted { Array($0.utf16).lexicographicallyPrecedes(Array($1.utf16)) }
        #expect(object.keys.map { Array($0.unicodeScalars) } == reference.map { Array($0.unicodeScalars) })
        // And the strict reader accepts exactly that order.
        let encoded = try CanonicalJSON.encode(.object(object))
        #expect(refusal(encoded) == nil)
    }

    @Test("A supplementary-plane key sorts before U+E000...U+FFFF keys (UTF-16, not code point order)")
    func surrogateOrder() throws {
        let value: JSONValue = ["\u{FFFD}": 1, "\u{10000}": 2]
        let encoded = try CanonicalJSON.encode(value)
        #expect(encoded == bytes("{\"\u{10000}\":2,\"\u{FFFD}\":1}"))
        let codePointOrder = bytes("{\"\u{FFFD}\":1,\"\u{10000}\":2}")
        #expect(refusal(codePointOrder)?.code == .notCanonical)
    }

    @Test("asciiKeysOnly refuses non-ASCII keys but not non-ASCII values")
    func asciiKeysOnly() throws {
        let options = ReadOptions(asciiKeysOnly: true)
        let error = try #require(refusal(bytes(#"{"a":1,"é":2}"#), options: options))
        #expect(error.code == .nonASCIIKey)
        #expect(error.offset == 7)
        #expect(
            refusal(
                bytes(#"{"a":{"\u00e9":1}}"#),
                options: ReadOptions(
                    requireCanonical: false,
                    asciiKeysOnly: true
                )
            )?.code
                == .nonASCIIKey
        )
        #expect(refusal(bytes(#"{"a":"é"}"#), options: options) == nil)
        #expect(refusal(bytes(#"{"é":1}"#)) == nil)
    }

    @Test("JSONObject keeps canonical order whatever the insertion order")
    func insertionOrderIrrelevant() throws {
        var first = JSONObject()
        first["b"] = 2
        first["a"] = 1
        first["c"] = 3
        let second: JSONObject = ["c": 3, "a": 1, "b": 2]
        #expect(first == second)
        #expect(first.hashValue == second.hashValue)
        #expect(first.keys == ["a", "b", "c"])
        #expect(first.members.map(\.value) == [1, 2, 3])
        #expect(Array(first.map(\.key)) == ["a", "b", "c"])
        #expect(try CanonicalJSON.encode(.object(first)) == bytes(#"{"a":1,"b":2,"c":3}"#))
    }

    @Test("JSONObject update, remove and later-duplicate-wins construction")
    func objectMutation() {
        var object = JSONObject([("k", 1), ("j", 2), ("k", 3)])
        #expect(object.count == 2)
        #expect(object["k"] == 3)
        #expect(object.updateValue("x", forKey: "j") == 2)
        #expect(object.removeValue(forKey: "k") == 3)
        #expect(object.removeValue(forKey: "missing") == nil)
        object["j"] = nil
        #expect(object.isEmpty)
        #expect(!object.containsKey("j"))
    }
}
