import CanonicalJSON
import Testing

/// Refusals that hold whatever the options: numbers, strings, UTF-8, surrogates, structure.
@Suite("Reader refusals")
struct ReaderTests {
    @Test(
        "Non-integer and non-canonical numbers are refused with their code",
        arguments: [
            ("1e3", CanonicalJSONError.Code.floatNotAllowed), ("1.0", .floatNotAllowed), ("1E+2", .floatNotAllowed),
            ("-0.5", .floatNotAllowed), ("0e0", .floatNotAllowed), ("-0", .negativeZero), ("01", .leadingZero),
            ("-012", .leadingZero), ("00", .leadingZero), ("+1", .unexpectedCharacter), ("-", .unexpectedEnd),
            ("-a", .unexpectedCharacter), (".5", .unexpectedCharacter), ("1.", .floatNotAllowed),
            ("99999999999999999999999", .integerOutOfRange),
        ]
    )
    func numbersRefused(text: String, code: CanonicalJSONError.Code) {
        #expect(refusal(bytes(text), options: .lenient)?.code == code)
        #expect(refusal(bytes(text))?.code == code)
    }

    @Test("Number refusals name the offset where the number starts")
    func numberOffset() {
        #expect(refusal(bytes(#"{"a":[1,-0]}"#))?.offset == 8)
        #expect(refusal(bytes(#"{"a":[1,2.5]}"#))?.offset == 8)
    }

    @Test(
        "Invalid UTF-8 inside strings is refused at the offending sequence",
        arguments: [
            ([0x22, 0xC0, 0xAF, 0x22], 1),  // overlong '/'
            ([0x22, 0xC1, 0xBF, 0x22], 1),  // overlong 2-byte
            ([0x22, 0xE0, 0x80, 0xAF, 0x22], 1),  // overlong 3-byte
            ([0x22, 0xF0, 0x80, 0x80, 0xAF, 0x22], 1),  // overlong 4-byte
            ([0x22, 0xED, 0xA0, 0x80, 0x22], 1),  // UTF-8-encoded surrogate U+D800
            ([0x22, 0xED, 0xBF, 0xBF, 0x22], 1),  // UTF-8-encoded surrogate U+DFFF
            ([0x22, 0x61, 0xE2, 0x82, 0x22], 2),  // truncated 3-byte sequence
            ([0x22, 0xE2, 0x82], 1),  // truncated by end of input
            ([0x22, 0xFF, 0x22], 1),  // 0xFF never appears in UTF-8
            ([0x22, 0xFE, 0x22], 1),
            ([0x22, 0x80, 0x22], 1),  // lone continuation byte
            ([0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], 1),  // beyond U+10FFFF
            ([0x22, 0xF5, 0x80, 0x80, 0x80, 0x22], 1),
            ([0x7B, 0x22, 0xC3, 0x22, 0x3A, 0x31, 0x7D], 2),  // in a key
        ] as [([UInt8], Int)]
    )
    func invalidUTF8(input: [UInt8], offset: Int) {
        let error = refusal(input, options: .lenient)
        #expect(error?.code == .invalidUTF8)
        #expect(error?.offset == offset)
    }

    @Test(
        "Well-formed multi-byte UTF-8 at the edges of each range is accepted",
        arguments: [
            [0xC2, 0x80], [0xDF, 0xBF], [0xE0, 0xA0, 0x80], [0xED, 0x9F, 0xBF], [0xEE, 0x80, 0x80],
            [0xEF, 0xBF, 0xBF], [0xF0, 0x90, 0x80, 0x80], [0xF4, 0x8F, 0xBF, 0xBF],
        ] as [[UInt8]]
    )
    func validUTF8(sequence: [UInt8]) throws {
        let input = [0x22] + sequence + [0x22]
        let value = try CanonicalJSON.decode(input)
        #expect(try CanonicalJSON.encode(value) == input)
    }

    @Test(
        "Lone surrogate escapes are refused",
        arguments: [
            #""\ud800""#, #""\udc00""#, #""\uDBFF""#, #""\ud800\u0041""#, #""\ud800x""#, #""\ud83d\ud83d""#,
            #"{"\udfff":1}"#, #""a\ude00b""#,
        ]
    )
    func loneSurrogates(input: String) {
        #expect(refusal(bytes(input), options: .lenient)?.code == .loneSurrogate)
        #expect(refusal(bytes(input))?.code == .loneSurrogate)
    }

    @Test(
        "Malformed escapes and raw control characters are refused",
        arguments: [
            (#""\x""#, CanonicalJSONError.Code.invalidEscape), (#""\u12G4""#, .invalidEscape),
            (#""\U0041""#, .invalidEscape), (#""\'""#, .invalidEscape), (#""\u00""#, .invalidEscape),
            (#""\u00"#, .unexpectedEnd), (#""\"#, .unexpectedEnd),
            ("\"a\nb\"", .controlCharacter), ("\"\t\"", .controlCharacter), ("\"\u{0}\"", .controlCharacter),
            ("\"abc", .unexpectedEnd),
        ]
    )
    func badStrings(input: String, code: CanonicalJSONError.Code) {
        #expect(refusal(bytes(input), options: .lenient)?.code == code)
    }

    @Test(
        "Structural errors carry their code and offset",
        arguments: [
            ("", CanonicalJSONError.Code.unexpectedEnd, 0), ("[1,]", .unexpectedCharacter, 3),
            ("[1", .unexpectedEnd, 2),
            (#"{"a"}"#, .unexpectedCharacter, 4), (#"{"a":}"#, .unexpectedCharacter, 5),
            (#"{a:1}"#, .unexpectedCharacter, 1),
            (#"{"a":1,}"#, .unexpectedCharacter, 7), ("[1 2]", .unexpectedCharacter, 3), ("1 2", .trailingData, 2),
            ("[]]", .trailingData, 2), ("tru", .unexpectedEnd, 3), ("trux", .unexpectedCharacter, 3),
            ("nul", .unexpectedEnd, 3), ("False", .unexpectedCharacter, 0), ("[1}", .unexpectedCharacter, 2),
            ("\u{FEFF}1", .unexpectedCharacter, 0), ("/*c*/1", .unexpectedCharacter, 0),
            ("NaN", .unexpectedCharacter, 0),
        ]
    )
    func structure(input: String, code: CanonicalJSONError.Code, offset: Int) {
        let error = refusal(bytes(input), options: .lenient)
        #expect(error?.code == code)
        #expect(error?.offset == offset)
    }

    @Test(
        "Top-level scalars are valid JSON texts",
        arguments: [
            ("null", JSONValue.null), ("true", .bool(true)), ("false", .bool(false)), ("0", .integer(0)),
            (#""""#, .string("")), ("-42", .integer(-42)),
        ]
    )
    func scalars(input: String, value: JSONValue) throws {
        #expect(try CanonicalJSON.decode(bytes(input)) == value)
    }

    @Test("100000 nested '[' are refused as tooDeep without crashing")
    func hugeNesting() throws {
        let input = [UInt8](repeating: 0x5B, count: 100_000)
        let error = try #require(refusal(input))
        #expect(error.code == .tooDeep)
        #expect(error.offset == 64)
        // Asking for more than the ceiling is clamped, still without recursion blowing the stack.
        let clamped = try #require(refusal(input, options: ReadOptions(maxDepth: 1_000_000)))
        #expect(clamped.code == .tooDeep)
        #expect(clamped.offset == ReadOptions.depthCeiling)
    }

    @Test("Nesting up to maxDepth is accepted, one more is refused")
    func depthBoundary() throws {
        func nested(_ depth: Int) -> [UInt8] {
            [UInt8](repeating: 0x5B, count: depth) + [UInt8](repeating: 0x5D, count: depth)
        }
        #expect(refusal(nested(64)) == nil)
        #expect(refusal(nested(65))?.code == .tooDeep)
        #expect(refusal(nested(3), options: ReadOptions(maxDepth: 2))?.code == .tooDeep)
        #expect(refusal(nested(ReadOptions.depthCeiling), options: ReadOptions(maxDepth: 10_000)) == nil)
        let objects = String(repeating: #"{"a":"#, count: 65) + "1" + String(repeating: "}", count: 65)
        #expect(refusal(bytes(objects))?.code == .tooDeep)
    }

    @Test("maxBytes refuses longer input before parsing")
    func maxBytes() {
        let input = bytes(#"{"a":"0123456789"}"#)
        #expect(refusal(input, options: ReadOptions(maxBytes: input.count)) == nil)
        #expect(refusal(input, options: ReadOptions(maxBytes: input.count - 1))?.code == .tooLarge)
    }
}

/// The reader's shared member stacks: a container that starts with everything on them takes
/// them over, and whatever comes after it still lands in the right container.
@Suite("Nested containers")
struct NestedContainerTests {
    @Test(
        "containers first in their parent, and members after them, are read whole",
        arguments: [
            #"[[1,2],[3],{"a":[4,{"b":5}],"c":6},7]"#,
            #"[{"a":1},2]"#,
            #"{"a":[{"b":[]},{}],"b":{"c":{"d":[[8]]}}}"#,
            #"[[[[1]]],2,[3,[4]]]"#,
        ]
    )
    func nested(text: String) throws {
        let value = try CanonicalJSON.decode(bytes(text))
        #expect(try CanonicalJSON.encode(value) == bytes(text))
    }

    @Test("a known tree: each container holds exactly its own members")
    func knownTree() throws {
        let value = try CanonicalJSON.decode(bytes(#"[{"a":[1]},{"b":2},3]"#))
        let expected: JSONValue = .array([
            .object(["a": .array([.integer(1)])]),
            .object(["b": .integer(2)]),
            .integer(3),
        ])
        #expect(value == expected)
        let unsorted = try CanonicalJSON.decode(bytes(#"{"b":[{"y":1,"x":2}],"a":0}"#), options: .lenient)
        #expect(
            unsorted == .object(["a": .integer(0), "b": .array([.object(["x": .integer(2), "y": .integer(1)])])])
        )
    }
}

/// `decodeWithMemberSpans`: where each member of a top-level object lies in the input.
@Suite("Member spans")
struct MemberSpanTests {
    @Test("in canonical input each member's bytes are its value's canonical bytes")
    func canonicalMembers() throws {
        let text = #"{"a":1,"b":{"c":[1,{"d":"}"}],"e":"\""},"f":[],"g":"x\u001fy","h":null}"#
        let input = Array(text.utf8)
        let (value, spans) = try CanonicalJSON.decodeWithMemberSpans(input)
        guard case .object(let object) = value else {
            Issue.record("not an object")
            return
        }
        #expect(Set(spans.keys) == ["a", "b", "f", "g", "h"])
        for (key, member) in object {
            let span = try #require(spans[key])
            #expect(Array(input[span]) == (try CanonicalJSON.encode(member)), "\(key)")
        }
        #expect(String(decoding: input[spans["b"]!], as: UTF8.self) == #"{"c":[1,{"d":"}"}],"e":"\""}"#)
    }

    @Test("in lenient input the spans leave out the whitespace around each value")
    func lenientMembers() throws {
        let input = Array(" { \"b\" : [ 1 , 2 ] ,\n\"a\":\t\"x\" } ".utf8)
        let (_, spans) = try CanonicalJSON.decodeWithMemberSpans(input, options: .lenient)
        #expect(String(decoding: input[spans["b"]!], as: UTF8.self) == "[ 1 , 2 ]")
        #expect(String(decoding: input[spans["a"]!], as: UTF8.self) == "\"x\"")
    }

    @Test("a text that is not an object has no member spans, and refused input stays refused")
    func notAnObject() throws {
        #expect(try CanonicalJSON.decodeWithMemberSpans(Array(#"[{"a":1}]"#.utf8)).memberSpans.isEmpty)
        #expect(throws: CanonicalJSONError.self) {
            try CanonicalJSON.decodeWithMemberSpans(Array(#"{"b":1,"a":2}"#.utf8))
        }
    }

    @Test("one member's span is the span all members' parse gives it, for every member, nested or not")
    func oneMember() throws {
        let text = #"{"a":1,"b":{"c":[1,{"d":"}"}],"e":"\""},"f":[],"g":"x\u001fy","h":null}"#
        let input = Array(text.utf8)
        let (value, spans) = try CanonicalJSON.decodeWithMemberSpans(input)
        for key in ["a", "b", "f", "g", "h"] {
            let (alone, span) = try CanonicalJSON.decode(input, spanOf: key)
            #expect(alone == value)
            #expect(span == spans[key], "\(key)")
        }
        // A key only nested, or absent, has no span at the top level.
        #expect(try CanonicalJSON.decode(input, spanOf: "c").span == nil)
        #expect(try CanonicalJSON.decode(input, spanOf: "z").span == nil)
        #expect(try CanonicalJSON.decode(Array(#"[{"a":1}]"#.utf8), spanOf: "a").span == nil)
        #expect(throws: CanonicalJSONError.self) {
            try CanonicalJSON.decode(Array(#"{"b":1,"a":2}"#.utf8), spanOf: "a")
        }
    }
}
